"""ConnectedComponents against an in-memory union-find, on random graphs of every shape."""

from __future__ import annotations

import random

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.stages.connected_components import ConnectedComponents, large_star, small_star


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


def _labels_equal(expected: dict):
    def check(actual):
        actual = list(actual)
        if len(actual) != len(dict(actual)) or dict(actual) != expected:
            wrong = {n: (label, expected.get(n)) for n, label in actual if expected.get(n) != label}
            raise BeamAssertException(f"{len(wrong)} wrong labels, e.g. {list(wrong.items())[:5]}")

    return check


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_GRAPHS)
def test_components_equal_union_find(graphs):
    edges = _combined(graphs)
    expected = union_find_labels([(a, b) for a, b in edges if a != b])
    with TestPipeline() as p:
        components = p | beam.Create(edges) | ConnectedComponents(rounds=12)
        assert_that(components.labels, _labels_equal(expected), label="labels")
        assert_that(components.unsettled, equal_to([]), label="unsettled")


def test_fixed_shapes_equal_union_find():
    rng = random.Random(7)
    kinds = ("sorted_chain", "chain", "star", "clique", "tree", "random")
    graphs = [(kind, size, rng.randrange(2**16)) for kind in kinds for size in (2, 3, 33)]
    edges = _combined(graphs) + [(("x", 1), ("x", 1))]  # a self-loop alone is no edge: the node has no label
    expected = union_find_labels([(a, b) for a, b in edges if a != b])
    with TestPipeline() as p:
        components = p | beam.Create(edges) | ConnectedComponents(rounds=12)
        assert_that(components.labels, _labels_equal(expected), label="labels")
        assert_that(components.unsettled, equal_to([]), label="unsettled")


def test_too_few_rounds_split_components_and_count_it():
    # a sorted chain of 64 needs 6 rounds; after 1, labels must still be safe:
    # every label labels itself, and a node's label is in its true component
    edges = [(i, i + 1) for i in range(63)] + [(100, 101), (101, 102)]
    truth = union_find_labels(edges)

    def safe(actual):
        labels = dict(actual)
        assert set(labels) == set(truth)
        for node, label in labels.items():
            assert labels[label] == label and truth[label] == truth[node] and label <= node, (node, label)
        if len({labels[n] for n in range(64)}) < 2:
            raise BeamAssertException("expected the chain to be split after one round")

    def counted(unsettled):
        unsettled = set(unsettled)
        if not unsettled or not unsettled <= set(range(64)):
            raise BeamAssertException(f"unsettled nodes: {sorted(unsettled)}")

    with TestPipeline() as p:
        components = p | beam.Create(edges) | ConnectedComponents(rounds=1)
        assert_that(components.labels, safe, label="labels")
        assert_that(components.unsettled, counted, label="unsettled")


def test_star_steps():
    assert sorted(large_star((3, [1, 5, 7, 5]))) == [(5, 1), (7, 1)]
    assert sorted(large_star((1, [5, 7]))) == [(5, 1), (7, 1)]
    assert list(large_star((9, [1, 2]))) == []  # edges to smaller nodes are kept by those nodes
    assert sorted(small_star((9, [4, 2, 4]))) == [(4, 2), (9, 2)]
