"""ConnectedComponents against an in-memory union-find, on random graphs of every shape."""

from __future__ import annotations

import random
from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.stages.connected_components import (
    ConnectedComponents,
    UnionFind,
    large_star,
    settled_label,
    small_star,
)

NAMESPACE = "TestComponents"


def union_find_labels(edges) -> dict:
    """node -> smallest node of its component."""
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _shape(kind: str, size: int, rng: random.Random) -> list[tuple[int, int]]:
    nodes = list(range(size))
    if kind != "sorted_chain":
        rng.shuffle(nodes)
    if kind in ("chain", "sorted_chain"):
        return [(nodes[i], nodes[i + 1]) for i in range(size - 1)]
    if kind == "star":
        return [(nodes[0], n) for n in nodes[1:]]
    if kind == "clique":
        return [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    if kind == "small_components":  # pairs and triangles
        edges = []
        for i in range(0, size - 2, 3):
            edges += [(nodes[i], nodes[i + 1]), (nodes[i + 1], nodes[i + 2])]
            if rng.random() < 0.5:
                edges.append((nodes[i], nodes[i + 2]))
        return edges
    if kind == "tree":
        return [(nodes[i], nodes[rng.randrange(i)]) for i in range(1, size)]
    # sparse random graph: a few components, cycles, duplicate edges and self-loops
    return [(rng.choice(nodes), rng.choice(nodes)) for _ in range(size)]


_GRAPHS = st.lists(
    st.tuples(
        st.sampled_from(["chain", "sorted_chain", "star", "clique", "small_components", "tree", "random"]),
        st.integers(min_value=2, max_value=40),
        st.integers(min_value=0, max_value=2**16),
    ),
    min_size=1,
    max_size=12,
)


def _combined(graphs) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """All graphs as one, nodes namespaced (graph, node); edges in both orientations at random."""
    edges = []
    for index, (kind, size, seed) in enumerate(graphs):
        rng = random.Random(seed)
        for a, b in _shape(kind, size, rng):
            edges.append(((index, a), (index, b)) if rng.random() < 0.5 else ((index, b), (index, a)))
    return edges


def _forest(seed: int, paths: int, cliques: int) -> list[tuple[int, int]]:
    """Long paths (one in sorted order, the slowest for the rounds) and cliques, ids interleaved at random."""
    rng = random.Random(seed)
    sizes = [rng.randrange(50, 300) for _ in range(paths)] + [rng.randrange(3, 12) for _ in range(cliques)]
    ids = list(range(sum(sizes)))
    rng.shuffle(ids)
    edges, start = [], 0
    for index, size in enumerate(sizes):
        nodes = ids[start : start + size]
        start += size
        if index == 0:
            nodes.sort()
        if index < paths:
            edges += [(nodes[i], nodes[i + 1]) for i in range(size - 1)]
        else:
            edges += [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    rng.shuffle(edges)
    return edges


def _labels_equal(expected: dict):
    def check(actual):
        actual = list(actual)
        if len(actual) != len(dict(actual)) or dict(actual) != expected:
            wrong = {n: (label, expected.get(n)) for n, label in actual if expected.get(n) != label}
            raise BeamAssertException(f"{len(wrong)} wrong labels, e.g. {list(wrong.items())[:5]}")

    return check


def _labels_safe(truth: dict):
    """Too little merged, never too much: a label labels itself, is no larger, and is in the node's component."""

    def check(actual):
        actual = list(actual)
        labels = dict(actual)
        if len(actual) != len(labels) or set(labels) != set(truth):
            raise BeamAssertException(f"{len(actual)} labels for {len(truth)} nodes")
        for node, label in labels.items():
            if not (labels[label] == label and truth[label] == truth[node] and label <= node):
                raise BeamAssertException(f"unsafe label {label!r} for {node!r}")

    return check


def _components(edges, check_labels, check_unsettled, **kwargs) -> dict[str, int]:
    """Runs ConnectedComponents on `edges` under the two checks; returns its counters."""
    pipeline = TestPipeline()
    components = pipeline | beam.Create(edges) | ConnectedComponents(namespace=NAMESPACE, **kwargs)
    assert_that(components.labels, check_labels, label="labels")
    assert_that(components.unsettled, check_unsettled, label="unsettled")
    result = pipeline.run()
    result.wait_until_finish()
    counters = Counter()
    for counter in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        counters[counter.key.metric.name] += counter.committed
    return counters


def _exact(edges, **kwargs) -> dict[str, int]:
    """Runs ConnectedComponents and checks every label is its component's smallest node; returns its counters."""
    expected = union_find_labels([(a, b) for a, b in edges if a != b])
    return _components(edges, _labels_equal(expected), equal_to([]), **kwargs)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_GRAPHS, st.integers(min_value=1, max_value=3))
def test_components_equal_union_find(graphs, rounds):
    _exact(_combined(graphs), rounds=rounds)


@pytest.mark.parametrize("rounds", [1, 3])
def test_fixed_shapes_equal_union_find(rounds):
    rng = random.Random(7)
    kinds = ("sorted_chain", "chain", "star", "clique", "tree", "random")
    graphs = [(kind, size, rng.randrange(2**16)) for kind in kinds for size in (2, 3, 33)]
    edges = _combined(graphs) + [(("x", 1), ("x", 1))]  # a self-loop alone is no edge: the node has no label
    _exact(edges, rounds=rounds)


def test_one_round_settles_long_paths_and_cliques_through_the_residual_step():
    counters = _exact(_forest(seed=3, paths=6, cliques=30), rounds=1)
    assert counters["residual_edges"] > 0 and counters["residual_overflow"] == counters["unsettled_nodes"] == 0


def test_stars_settle_in_the_rounds_with_no_residual():
    edges = [(center, center + leaf) for center in range(0, 1000, 10) for leaf in range(1, 10)]
    counters = _exact(edges, rounds=1)
    assert counters["residual_edges"] == counters["residual_overflow"] == counters["unsettled_nodes"] == 0


def test_string_and_tuple_ids():
    rng = random.Random(5)
    names = [f"doc-{i:04d}" for i in range(120)]
    rng.shuffle(names)
    chain = [(names[i], names[i + 1]) for i in range(len(names) - 1)]
    _exact(chain + [("a", "b"), ("b", "c")], rounds=1)
    # deduplicate.py's nodes: (document id, dup_cluster_size)
    nodes = {name: (f"{rng.getrandbits(64):016x}", rng.randrange(1, 4)) for name in names}
    _exact([(nodes[a], nodes[b]) for a, b in chain], rounds=1)


def test_no_edges():
    counters = _components([], equal_to([]), equal_to([]), rounds=3)
    assert sum(counters.values()) == 0


def test_residual_cap_keeps_labels_safe_and_emits_the_unsettled():
    # a sorted chain of 64 needs 6 rounds: after 1 the residual is several edges, so a cap of 0 or 5 is exceeded
    edges = [(i, i + 1) for i in range(63)] + [(100, 101), (101, 102)]
    truth = union_find_labels(edges)

    def some_chain_nodes(actual):
        if not actual or not set(actual) <= set(range(64)) or len(actual) != len(set(actual)):
            raise BeamAssertException(f"unsettled nodes: {sorted(actual)}")

    for cap in (0, 5):
        counters = _components(edges, _labels_safe(truth), some_chain_nodes, rounds=1, max_residual_edges=cap)
        assert (
            counters["residual_overflow"] == 1 and counters["residual_edges"] == 0 and counters["unsettled_nodes"] > 0
        )


def test_residual_cap_is_inclusive():
    edges = [(i, i + 1) for i in range(63)]
    resolved = _exact(edges, rounds=1)["residual_edges"]
    assert _exact(edges, rounds=1, max_residual_edges=resolved)["residual_edges"] == resolved
    truth = union_find_labels(edges)
    just_over = _components(edges, _labels_safe(truth), lambda nodes: None, rounds=1, max_residual_edges=resolved - 1)
    assert just_over["residual_overflow"] == 1


def test_shuffles_are_two_per_round_and_three_more():
    for rounds in (1, 3):
        pipeline = beam.Pipeline()
        _ = pipeline | beam.Create([(1, 2)]) | "Components" >> ConnectedComponents(rounds)
        transforms = pipeline.to_runner_api().components.transforms.values()
        shuffles = [
            t.unique_name
            for t in transforms
            if t.unique_name.startswith("Components/") and t.spec.urn == "beam:transform:group_by_key:v1"
        ]
        assert len(shuffles) == 2 * rounds + 3, shuffles


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="rounds"):
        ConnectedComponents(0)
    with pytest.raises(ValueError, match="max_residual_edges"):
        ConnectedComponents(3, max_residual_edges=-1)


def test_star_steps():
    assert sorted(large_star((3, [1, 5, 7, 5]))) == [(5, 1), (7, 1)]
    assert sorted(large_star((1, [5, 7]))) == [(5, 1), (7, 1)]
    assert list(large_star((9, [1, 2]))) == []  # edges to smaller nodes are kept by those nodes
    assert sorted(small_star((9, [4, 2, 4]))) == [(4, 2), (9, 2)]


def test_settled_label():
    assert settled_label(3, {5, 7}) == 3  # a centre
    assert settled_label(7, {3}) == 3  # a leaf
    assert settled_label(5, {3, 7}) is None  # a smaller neighbour and another: unsettled
    assert settled_label(5, {3, 4}) is None


def test_union_find_roots_are_the_smallest_nodes():
    forest = UnionFind()
    path = list(range(50))
    random.Random(1).shuffle(path)
    for a, b in zip(path, path[1:]):
        forest.union(a, b)
    forest.union(90, 80)
    forest.union(80, 80)
    assert dict(forest.roots()) == {**{n: 0 for n in range(50)}, 80: 80, 90: 80}
