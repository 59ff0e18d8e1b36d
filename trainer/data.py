"""The training data loader: packed token windows, domains sampled by the mixture, exact resume.

What a sample is. Each token file of a domain is cut into windows of `seq_len + 1` tokens
starting every `seq_len` tokens (x = window[:-1], y = window[1:], so every token of a file
is a target exactly once per epoch); the tail of a file shorter than a window is not read.
Windows ignore document boundaries: documents are packed, separated by end-of-text, as
in GPT-2 and nanoGPT.

Who reads what. A rank has `max(1, num_workers)` streams; stream s of rank r is global
reader g = r * streams + s of G = world_size * streams. In epoch e of a domain, the
domain's windows are put in a keyed pseudo-random order (a Feistel bijection on the
window numbers, keyed by seed, domain and epoch: O(1) memory, any position computable
directly), and reader g reads positions g, g + G, g + 2G, ...: within an epoch no window
is read by two readers. A reader that reaches the end of its share starts the next epoch
(a new order), so domains repeat as the mixture asks (their planned `epochs`).

How domains are chosen. Each reader draws the domain of every sample from the current
phase's weights with its own seeded generator. The phase is a function of the step:
all ranks together have consumed step * batch_size * seq_len * world_size tokens before
step `step`, and phases switch when that passes their cumulative `token_budget` (or, with
`total_tokens`, the same fractions of it); the last phase runs on.

Workers. `num_workers=0` reads in the training process: a batch is a few memcpys out of
memory-mapped files (~90 us for 8 x 256 tokens), faster than handing it over from a
DataLoader worker (bench/bench_loader.py); workers pay off only when the training
process has no CPU time to spare.

Resume. `state_dict()` holds, per stream, the batches it produced, its generator state
and its place (epoch, position) in every domain, plus the rank's step. After
`load_state_dict(state)`, iterating yields exactly the batches an uninterrupted loader
would have yielded after those `step` batches. The state belongs to one rank; resuming
with another seq_len, batch size, seed, world size, worker count or token folder is
refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from collections.abc import Iterator

import numpy as np
import torch

from trainer.token_shards import TokenFolder, open_token_folder

_STATE_VERSION = 1
_BLOCK = 4096  # window numbers computed at a time per domain
_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LoaderConfig:
    seq_len: int
    """Tokens per sample (x and y each); windows are seq_len + 1 tokens."""
    batch_size: int
    """Samples per batch on one rank."""
    seed: int = 0
    """Window orders and domain draws; the same seed gives the same batches."""
    rank: int = 0
    world_size: int = 1
    num_workers: int = 0
    """torch DataLoader worker processes on this rank; 0 reads in the training process."""
    total_tokens: int | None = None
    """Switch phases at the same fractions of this many tokens (all ranks) instead of at the
    manifest's phase budgets, which are the pipeline's estimates."""
    pin_memory: bool = False
    holdout: float = 0.0
    """Fraction of every domain's windows, its last ones in file order, that training never reads:
    the validation set (`trainer.train` evaluates on them)."""

    def __post_init__(self) -> None:
        for key in ("seq_len", "batch_size", "world_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: must be >= 1, not {getattr(self, key)}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank: must be in [0, world_size={self.world_size}), not {self.rank}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers: must be >= 0, not {self.num_workers}")
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"holdout: must be in [0, 1), not {self.holdout}")

    @property
    def streams(self) -> int:
        return max(1, self.num_workers)


class Permutation:
    """A keyed bijection of [0, n): a 4-round Feistel network on the next even bit width, cycle-walked into range."""

    def __init__(self, n: int, key: list[int]):
        self.n = n
        bits = max(2, (n - 1).bit_length())
        bits += bits % 2
        self._half = np.uint64(bits // 2)
        self._mask = np.uint64((1 << (bits // 2)) - 1)
        self._keys = np.random.default_rng(key).bit_generator.random_raw(4).astype(np.uint64)

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        left, right = x >> self._half, x & self._mask
        for key in self._keys:
            z = (right ^ key) * _MIX1
            z ^= z >> np.uint64(31)
            z *= _MIX2
            z ^= z >> np.uint64(29)
            left, right = right, left ^ (z & self._mask)
        return (left << self._half) | right

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        y = self._feistel(positions.astype(np.uint64))
        outside = y >= self.n
        while outside.any():  # < 4 rounds expected: the bit width covers at most 4n values
            y[outside] = self._feistel(y[outside])
            outside = y >= self.n
        return y.astype(np.int64)


class DomainWindows:
    """A domain's token files as numbered windows; files are memory-mapped on first read."""

    def __init__(self, folder: TokenFolder, name: str, seq_len: int, holdout: float = 0.0):
        self._folder, self._seq_len = folder, seq_len
        self._entries = [e for e in folder.domains[name]["files"] if e["tokens"] > seq_len]
        counts = [(e["tokens"] - 1) // seq_len for e in self._entries]
        self._first = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        self.held_out = int(self._first[-1] * holdout)  # windows count .. count + held_out - 1: validation's
        self.count = int(self._first[-1]) - self.held_out
        self._maps: dict[int, np.ndarray] = {}

    def read(self, windows: np.ndarray, out: np.ndarray, rows: np.ndarray) -> None:
        """out[rows[k]] = tokens of window windows[k]; out is (batch, seq_len + 1)."""
        files = np.searchsorted(self._first, windows, side="right") - 1
        starts = (windows - self._first[files]) * self._seq_len
        for row, file, start in zip(rows.tolist(), files.tolist(), starts.tolist()):
            tokens = self._maps.get(file)
            if tokens is None:
                tokens = self._maps[file] = np.asarray(
                    self._folder.tokens(self._entries[file])
                )  # plain view: cheaper slices
            out[row] = tokens[start : start + self._seq_len + 1]  # one memcpy (and widening) per sample


@dataclasses.dataclass(frozen=True, slots=True)
class _Schedule:
    names: list[str]
    """Every domain any phase samples, sorted."""
    phase_names: list[str]
    ends: np.ndarray
    """Token count (all ranks) at which each phase ends; the last is +inf."""
    cumulative: np.ndarray
    """(phases, domains): cumulative weights, each row ending at exactly 1.0 from its last weighted domain on,
    so a uniform draw in [0, 1) never lands on a domain of weight 0."""


def _schedule(folder: TokenFolder, total_tokens: int | None) -> _Schedule:
    phases = folder.phases
    names = sorted({name for phase in phases for name, w in phase.weights.items() if w > 0})
    missing = [name for name in names if name not in folder.domains]
    if missing:
        raise ValueError(f"phases weight domains the token folder does not hold: {', '.join(missing)}")
    weights = np.zeros((len(phases), len(names)))
    for i, phase in enumerate(phases):
        total = sum(w for w in phase.weights.values() if w > 0)
        if total <= 0:
            raise ValueError(f"phases[{i}] ({phase.name}): no domain has a positive weight")
        for j, name in enumerate(names):
            weights[i, j] = max(phase.weights.get(name, 0.0), 0.0) / total
    budgets = [phase.token_budget for phase in phases]
    if total_tokens is not None:
        if any(b is None for b in budgets) or sum(budgets) <= 0:
            raise ValueError("total_tokens: the manifest's phases have no token budgets to take fractions of")
        budgets = [b / sum(budgets) * total_tokens for b in budgets]
    ends = np.cumsum([np.inf if b is None else float(b) for b in budgets])
    ends[-1] = np.inf
    cumulative = np.cumsum(weights, axis=1)
    for row, w in zip(cumulative, weights):
        row[np.flatnonzero(w)[-1] :] = 1.0
    return _Schedule(names, [p.name for p in phases], ends, cumulative)


class SampleStream:
    """The batches of one global reader: its generator and its place in every domain's window order."""

    def __init__(self, folder: TokenFolder, config: LoaderConfig, schedule: _Schedule, stream: int):
        self._config, self._schedule = config, schedule
        self._local = (
            stream  # this rank's stream number: it makes batch j of the stream the rank's step j * streams + stream
        )
        self._reader = config.rank * config.streams + stream
        self._readers = config.world_size * config.streams
        self._windows = [DomainWindows(folder, name, config.seq_len, config.holdout) for name in schedule.names]
        for name, windows in zip(schedule.names, self._windows):
            if windows.count < self._readers:
                raise ValueError(
                    f"domain {name!r}: {windows.count} windows of {config.seq_len + 1} tokens, fewer than the "
                    f"{self._readers} readers (world_size x workers); it needs more tokens or a shorter seq_len"
                )
        self._blocks: dict[int, tuple[int, int, np.ndarray]] = {}  # domain -> (epoch, first position, window numbers)
        self.batches = 0
        self._rng = np.random.default_rng([config.seed, 1, self._reader])
        self._epoch = [0] * len(schedule.names)
        self._taken = [0] * len(schedule.names)

    def phase(self, batch: int) -> int:
        c = self._config
        step = batch * c.streams + self._local
        return int(np.searchsorted(self._schedule.ends, step * c.batch_size * c.seq_len * c.world_size, side="right"))

    def next_batch(self) -> np.ndarray:
        """(batch_size, seq_len + 1) int64 tokens."""
        c = self._config
        domains = np.searchsorted(
            self._schedule.cumulative[self.phase(self.batches)], self._rng.random(c.batch_size), side="right"
        )
        out = np.empty((c.batch_size, c.seq_len + 1), dtype=np.int64)
        for d in np.unique(domains).tolist():
            rows = np.flatnonzero(domains == d)
            self._windows[d].read(self._take(d, len(rows)), out, rows)
        self.batches += 1
        return out

    def _take(self, d: int, count: int) -> np.ndarray:
        """The next `count` window numbers of domain d in this reader's share, crossing into new epochs as needed."""
        n = self._windows[d].count
        share = (n - self._reader + self._readers - 1) // self._readers  # positions reader, reader + G, ... below n
        taken = []
        while count:
            epoch, start = self._epoch[d], self._taken[d]
            block = self._blocks.get(d)
            if block is None or block[0] != epoch or not block[1] <= start < block[1] + len(block[2]):
                # orders are computed a block ahead: one vectorized pass instead of one per sample
                positions = self._reader + self._readers * np.arange(start, min(start + _BLOCK, share), dtype=np.int64)
                key = [self._config.seed, 0, zlib.crc32(self._schedule.names[d].encode()), epoch]
                block = self._blocks[d] = (epoch, start, Permutation(n, key)(positions))
            here = min(count, block[1] + len(block[2]) - start)
            taken.append(block[2][start - block[1] : start - block[1] + here])
            self._taken[d] += here
            count -= here
            if self._taken[d] == share:
                self._epoch[d], self._taken[d] = epoch + 1, 0
        return taken[0] if len(taken) == 1 else np.concatenate(taken)

    def state_dict(self) -> dict:
        return {
            "reader": self._reader,
            "batches": self.batches,
            "rng": self._rng.bit_generator.state,
            "domains": {
                name: {"epoch": e, "taken": t} for name, e, t in zip(self._schedule.names, self._epoch, self._taken)
            },
        }

    def load_state_dict(self, state: dict) -> None:
        if state["reader"] != self._reader:
            raise ValueError(f"stream state: reader {state['reader']} loaded into reader {self._reader}")
        self.batches = state["batches"]
        self._rng.bit_generator.state = state["rng"]
        self._epoch = [state["domains"][name]["epoch"] for name in self._schedule.names]
        self._taken = [state["domains"][name]["taken"] for name in self._schedule.names]


def _split(tokens: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    windows = torch.from_numpy(tokens)  # (B, T + 1)
    return windows[:, :-1].contiguous(), windows[:, 1:].contiguous()  # (B, T) each


class _WorkerStreams(torch.utils.data.IterableDataset):
    """DataLoader worker i plays stream (first + i) % streams, from the state the main process recorded."""

    def __init__(self, directory: str, config: LoaderConfig, states: list[dict], first: int):
        self._directory, self._config, self._states, self._first = directory, config, states, first

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        stream = (self._first + worker.id) % self._config.streams
        folder = open_token_folder(self._directory)
        sampler = SampleStream(folder, self._config, _schedule(folder, self._config.total_tokens), stream)
        sampler.load_state_dict(self._states[stream])
        while True:
            x, y = _split(sampler.next_batch())
            yield x, y, stream, sampler.state_dict()


class TokenLoader:
    """Endless (x, y) int64 batches of shape (batch_size, seq_len) for one rank, resumable exactly."""

    def __init__(self, directory: str, config: LoaderConfig):
        self._directory, self.config = directory, config
        folder = open_token_folder(directory)
        self._schedule = _schedule(folder, config.total_tokens)
        self._fingerprint = {
            "tokens_manifest_sha256": hashlib.sha256(folder.text.encode()).hexdigest(),
            "seq_len": config.seq_len,
            "batch_size": config.batch_size,
            "seed": config.seed,
            "rank": config.rank,
            "world_size": config.world_size,
            "streams": config.streams,
            "total_tokens": config.total_tokens,
            "holdout": config.holdout,
        }
        # in-process streams; with workers only their recorded states are kept here
        self._streams = [SampleStream(folder, config, self._schedule, s) for s in range(config.streams)]
        self._states = [s.state_dict() for s in self._streams]
        self.step = 0

    @property
    def tokens_per_step(self) -> int:
        """Tokens (x) all ranks consume per step."""
        return self.config.batch_size * self.config.seq_len * self.config.world_size

    def phase_name(self, step: int | None = None) -> str:
        """The phase of `step` (default: the next batch)."""
        tokens = (self.step if step is None else step) * self.tokens_per_step
        return self._schedule.phase_names[int(np.searchsorted(self._schedule.ends, tokens, side="right"))]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.config.num_workers == 0:
            (stream,) = self._streams
            while True:
                x, y = _split(stream.next_batch())
                if self.config.pin_memory:
                    x, y = x.pin_memory(), y.pin_memory()
                self.step += 1
                yield x, y
        dataset = _WorkerStreams(
            self._directory, self.config, list(self._states), first=self.step % self.config.streams
        )
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=None, num_workers=self.config.num_workers, pin_memory=self.config.pin_memory
        )
        for x, y, stream, state in loader:
            self._states[stream] = state
            self.step += 1
            yield x, y

    def state_dict(self) -> dict:
        states = [s.state_dict() for s in self._streams] if self.config.num_workers == 0 else list(self._states)
        return {"version": _STATE_VERSION, "fingerprint": dict(self._fingerprint), "step": self.step, "streams": states}

    def load_state_dict(self, state: dict) -> None:
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"loader state: version must be {_STATE_VERSION}, not {state.get('version')!r}")
        for key, value in self._fingerprint.items():
            if state["fingerprint"].get(key) != value:
                raise ValueError(
                    f"loader state: {key} is {state['fingerprint'].get(key)!r} in the checkpoint but {value!r} now"
                )
        for stream, saved in zip(self._streams, state["streams"]):
            stream.load_state_dict(saved)
        self._states = list(state["streams"])
        self.step = state["step"]
