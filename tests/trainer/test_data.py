"""The loader: disjoint readers, exact resume, mixture proportions, phase switches, epochs.

Token folders are synthetic (tiny_corpus.write_token_folder): every token value says
which domain, file and position it comes from, so a sample's first token names its window.
"""

from __future__ import annotations

import collections
import dataclasses
import json

import numpy as np
import pytest
import torch
from tiny_corpus import window_of, write_token_folder

from trainer.data import LoaderConfig, Permutation, SampleStream, TokenLoader, _schedule
from trainer.token_shards import open_token_folder

SEQ = 16
MAIN = [
    {
        "name": "main",
        "token_budget": None,
        "weights": {"a": 0.6, "b": 0.3, "c": 0.1},
        "epochs": {"a": 1, "b": 1, "c": 1},
    }
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    # a: 2 files, 1000 windows of 16; b: 500; c: 100 (in 3 files with ragged tails)
    return write_token_folder(
        tmp_path_factory.mktemp("tokens"), {"a": [8001, 8001], "b": [8001], "c": [500, 700, 421]}, MAIN
    )


def take(loader: TokenLoader, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    batches = iter(loader)
    return [next(batches) for _ in range(n)]


def windows(batches) -> list[tuple[int, int, int]]:
    return [window_of(int(x[i, 0])) for x, _ in batches for i in range(x.shape[0])]


@pytest.mark.parametrize("n", [1, 2, 3, 17, 1000, 4097])
def test_permutation_is_a_bijection(n):
    order = Permutation(n, [7, n])(np.arange(n))
    assert sorted(order.tolist()) == list(range(n))
    if n > 16:
        assert not np.array_equal(order, np.arange(n))
        assert not np.array_equal(order, Permutation(n, [8, n])(np.arange(n)))


def test_batches_are_shifted_windows(folder):
    x, y = take(TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=8)), 1)[0]
    assert x.shape == y.shape == (8, SEQ) and x.dtype == y.dtype == torch.int64
    assert torch.equal(x[:, 1:], y[:, :-1]) and torch.equal(y[:, -1], x[:, -1] + 1)
    for token in x[:, 0].tolist():
        assert window_of(token)[2] % SEQ == 0  # windows start every seq_len tokens


def test_no_window_is_read_by_two_of_2_ranks_x_2_workers(folder):
    # 4 readers x 40 batches x 8 = 1280 samples: under one epoch of every domain at these weights
    per_rank = [
        windows(
            take(
                TokenLoader(
                    str(folder), LoaderConfig(seq_len=SEQ, batch_size=8, rank=rank, world_size=2, num_workers=2)
                ),
                40,
            )
        )
        for rank in (0, 1)
    ]
    seen = per_rank[0] + per_rank[1]
    assert len(seen) == len(set(seen)) == 640
    # and through SampleStream directly: the 4 readers' shares of domain c (100 windows) tile it exactly
    tokens = open_token_folder(str(folder))
    config = LoaderConfig(seq_len=SEQ, batch_size=5, world_size=2, num_workers=2)
    shares = []
    for rank in (0, 1):
        for stream in (0, 1):
            sampler = SampleStream(tokens, dataclasses.replace(config, rank=rank), _schedule(tokens, None), stream)
            shares.append({w.item() for w in sampler._take(2, 25)})  # domain index 2 = "c"
    assert sum(len(s) for s in shares) == len(set().union(*shares)) == 100


@pytest.mark.parametrize("num_workers, stop", [(0, 5), (2, 5), (2, 6)])
def test_resume_yields_exactly_the_remaining_batches(folder, num_workers, stop):
    config = LoaderConfig(seq_len=SEQ, batch_size=4, seed=3, num_workers=num_workers)
    uninterrupted = take(TokenLoader(str(folder), config), 12)
    first = TokenLoader(str(folder), config)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(take(first, stop), uninterrupted))
    state = json.loads(json.dumps(first.state_dict()))  # it must survive a JSON (or torch.save) round trip
    resumed = TokenLoader(str(folder), config)
    resumed.load_state_dict(state)
    rest = take(resumed, 12 - stop)
    assert resumed.step == 12
    for (x, y), (ux, uy) in zip(rest, uninterrupted[stop:]):
        assert torch.equal(x, ux) and torch.equal(y, uy)


def test_resume_refuses_another_configuration(folder):
    state = TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=4)).state_dict()
    with pytest.raises(ValueError, match="batch_size is 4 in the checkpoint but 8 now"):
        TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=8)).load_state_dict(state)


def test_domains_are_drawn_by_their_weights(folder):
    samples = windows(take(TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=100, seed=1)), 60))
    counts = collections.Counter(domain for domain, _, _ in samples)
    n = len(samples)
    for domain, weight in enumerate((0.6, 0.3, 0.1)):
        sigma = (weight * (1 - weight) / n) ** 0.5
        assert abs(counts[domain] / n - weight) < 5 * sigma, (domain, counts)


def test_phase_switches_when_all_ranks_consumed_its_budget(tmp_path):
    # 2 ranks x 4 samples x 16 tokens = 128 tokens a step: "warmup" (only a) lasts 3 steps, then "anneal" (only b)
    phases = [
        {"name": "warmup", "token_budget": 384, "weights": {"a": 1.0, "b": 0.0}, "epochs": {}},
        {"name": "anneal", "token_budget": 1000, "weights": {"a": 0.0, "b": 1.0}, "epochs": {}},
    ]
    folder = write_token_folder(tmp_path, {"a": [4001], "b": [4001]}, phases)
    for num_workers in (0, 2):
        loader = TokenLoader(
            str(folder), LoaderConfig(seq_len=SEQ, batch_size=4, rank=1, world_size=2, num_workers=num_workers)
        )
        assert (
            loader.phase_name() == "warmup"
            and loader.phase_name(3) == "anneal"
            and loader.phase_name(10**6) == "anneal"
        )
        domains = [{window_of(int(t))[0] for t in x[:, 0]} for x, _ in take(loader, 6)]
        assert domains == [{0}, {0}, {0}, {1}, {1}, {1}], num_workers
    # total_tokens scales the boundaries: 384 / 1384 of 2768 tokens = 768 = 6 steps
    scaled = TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=4, rank=1, world_size=2, total_tokens=2768))
    assert [scaled.phase_name(s) for s in (5, 6)] == ["warmup", "anneal"]


def test_a_small_domain_repeats_in_a_new_order_each_epoch(tmp_path):
    folder = write_token_folder(
        tmp_path, {"a": [161]}, [{"name": "main", "token_budget": None, "weights": {"a": 1.0}, "epochs": {"a": 3.0}}]
    )
    loader = TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=5))  # 10 windows: one epoch every 2 batches
    seen = windows(take(loader, 6))
    epochs = [seen[i : i + 10] for i in range(0, 30, 10)]
    assert all(sorted(e) == sorted(epochs[0]) and len(set(e)) == 10 for e in epochs)
    assert len({tuple(e) for e in epochs}) == 3
    assert loader.state_dict()["streams"][0]["domains"]["a"] == {"epoch": 3, "taken": 0}


def test_a_domain_with_fewer_windows_than_readers_is_refused(tmp_path):
    folder = write_token_folder(
        tmp_path,
        {"a": [4001], "b": [40]},
        [{"name": "main", "token_budget": None, "weights": {"a": 0.5, "b": 0.5}, "epochs": {}}],
    )
    with pytest.raises(ValueError, match="domain 'b': 2 windows of 17 tokens, fewer than the 4 readers"):
        TokenLoader(str(folder), LoaderConfig(seq_len=SEQ, batch_size=4, world_size=4))
