"""`Deduplicate`: one document per URL, per normalized text, and per near-duplicate cluster.

    docs | Keys | DedupUrls | DedupExactTexts | DedupNearTexts | ApplyDecisions      (steps switched by DedupConfig)

Documents cross one shuffle here, not one per step: `Keys` reads each document
once and emits a small `DedupKeys` record (id, URL key, fetch time, text hash,
LSH band keys, weight); the three steps decide on those records alone, and
their decisions (`(id, (kind, value))`) meet the documents in one CoGroupByKey
by id (`ApplyDecisions`). A decision names the survivor a duplicate was dropped
for, a survivor's new `dup_cluster_size`, or a failure.

URL: records are grouped by `normalize_url`. The latest fetch survives
(WARC-Date; an unparseable date counts as oldest; ties go to the smallest id),
the others are URL_DUPLICATE. A refetch is the same page, not a copy: it does
not count in `dup_cluster_size`.

Exact: URL survivors are grouped by a 128-bit hash of `normalize_for_dedup`
(FineWeb's normalization). One survives, the others are EXACT_DUPLICATE. A text
that normalizes to nothing (only symbols) is compared with nothing.

Near: MinHash LSH as FineWeb, among exact survivors. Signatures of word 5-grams
(`filters.minhash`, 14 bands x 8 rows by default: pairs above Jaccard ~0.72 are
likely caught) -> `(band, band values) -> node` -> one shuffle per bucket ->
candidate edges, a star from each bucket's smallest member ->
`ConnectedComponents` (Beam shuffles, then a bounded union-find for what the
rounds left unsettled) -> one survivor per component, the others
NEAR_DUPLICATE. Signatures are computed in `Keys` for every document, since
that is where the text is: a document later found to be a URL or exact
duplicate costs its signature for nothing (~0.1 ms).

Survivor rule (exact and near): the smallest document id. Ids are hashes of a
record's place in the crawl, so the choice is deterministic on every runner and
blind to content; it is also the label connected components give a component,
so choosing the survivor costs no extra shuffle. A survivor's
`dup_cluster_size` is the number of documents that carried its text: itself,
its exact duplicates, and every near duplicate in its component with their
exact duplicates.

Pathological buckets: a bucket with more than `max_bucket_size` members (a
template or boilerplate page) links only its `max_bucket_size` smallest ids;
the rest are not linked through that bucket (they may be through another
band). Bucket members are combined before the shuffle, keeping a count and the
smallest ids, so even a bucket of millions costs bounded memory. Capped buckets
and the members left out are counted.

Non-convergence: a component that neither the rounds nor the bounded union-find
settled (`connected_components.py`) comes out as several clusters, each kept
node the survivor of what is labelled with it (too little removed, never too
much); every dropped document names a kept survivor. Unsettled nodes are counted.

Poison records (pipeline/accounting/guard.py): a document whose keys cannot be
computed, or whose group's decision fails, gets a `failed` decision, and
`ApplyDecisions`, where its one copy is, drops it as STAGE_ERROR and
dead-letters it. A batch of keys that fails is retried one document at a time,
so only the document that fails alone is lost. Steps after `Keys` see ids,
hashes and numbers only, never text.

Counts are Beam counters (namespace "Deduplicate") and, exact on every runner,
the one-element PCollection `Deduplicate.stats` (a dict of `STAT_NAMES`) set
when the transform is applied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import json
import math
from collections.abc import Iterable
from typing import NamedTuple

import apache_beam as beam

from filters.minhash import EMPTY, MinHasher, band_keys
from filters.text_normalization import normalize_url, normalized_code_points
from pipeline.accounting.guard import (
    DEAD_LETTER,
    DROPPED,
    BeamCounter,
    StageError,
    StageOutput,
    SumByKey,
    dead_lettered,
    rejected,
)
from pipeline.accounting.packing import pack, unpack
from pipeline.config import DedupConfig
from pipeline.core.layout import CLUSTERS_DIR, under
from pipeline.core.records import Document, DropReason, Rejection
from pipeline.core.schema import parse_warc_date
from pipeline.stages.connected_components import ConnectedComponents

STAGE = "Deduplicate"
STATS = "stats"
DECISIONS = "decisions"
_KEPT = "kept="  # a dedup drop's detail: _KEPT + the id of the document that survived in its place
_CLUSTER_STEPS = {
    DropReason.URL_DUPLICATE: "url",
    DropReason.EXACT_DUPLICATE: "exact",
    DropReason.NEAR_DUPLICATE: "near",
}
# decision kinds, keyed by document id: a drop names the survivor; a weight is a survivor's dup_cluster_size
# after exact dedup; absorbed is what near dedup adds to it; failed carries a StageError
_DROPS = {"url": DropReason.URL_DUPLICATE, "exact": DropReason.EXACT_DUPLICATE, "near": DropReason.NEAR_DUPLICATE}
WEIGHT, ABSORBED, FAILED = "weight", "absorbed", "failed"
STAT_NAMES = ("lsh_buckets_capped", "lsh_members_capped", "candidate_edges", "unsettled_nodes")
_KEYS_BATCH = 128  # documents per MinHasher call: amortizes numpy's per-call cost (~4x faster than one by one)


class DedupKeys(NamedTuple):
    """What the dedup steps know of a document: everything but its text."""

    id: str
    url_key: str
    fetch_order: tuple[float, str]
    text_key: bytes
    bands: tuple[bytes, ...]  # LSH band keys; empty when the text has no words (never a near duplicate)
    weight: int  # dup_cluster_size so far


def fetch_order(doc: Document) -> tuple[float, str]:
    """Sort key: the latest fetch first, then the smallest id."""
    fetched = parse_warc_date(doc.provenance.fetch_time)
    return (-fetched.timestamp() if fetched else math.inf, doc.id)


def url_key(doc: Document) -> str:
    """The URL-dedup key: the normalized URL (the document's own id when there is no URL)."""
    return normalize_url(doc.url) or f"id:{doc.id}"


def text_key(doc: Document) -> bytes:
    """The exact-dedup key: a 128-bit hash of the normalized text (its own id when that is empty)."""
    normalized = normalized_code_points(doc.text)
    if len(normalized) == 0:
        return b"id:" + doc.id.encode()
    return hashlib.blake2b(normalized.tobytes(), digest_size=16).digest()


def _decision(doc_id: str, kind: str, value) -> beam.pvalue.TaggedOutput:
    return beam.pvalue.TaggedOutput(DECISIONS, (doc_id, (kind, value)))


class _KeysFn(beam.DoFn):
    """list[Document] -> DedupKeys per document; a document whose keys fail gets a `failed` decision."""

    def __init__(self, config: DedupConfig):
        self._config = config

    def setup(self) -> None:
        config = self._config
        self._counter = BeamCounter(STAGE)
        self._hasher = MinHasher(num_perm=config.bands * config.rows_per_band, ngram=config.ngram, seed=config.seed)

    def process(self, batch: list[Document]):
        try:
            keys = self._keys(batch)
        except Exception as err:  # noqa: BLE001 -- a poison record must not end the run
            if len(batch) > 1:
                for doc in batch:
                    yield from self.process([doc])
            else:
                yield _decision(batch[0].id, FAILED, StageError.of(err))
            return
        yield from keys

    def _keys(self, batch: list[Document]) -> list[DedupKeys]:
        config = self._config
        signatures = self._hasher.signatures([doc.text for doc in batch]) if config.near else [None] * len(batch)
        keys = []
        for doc, signature in zip(batch, signatures):
            bands = ()
            if signature is not None:
                if (signature == EMPTY).all():
                    self._counter.inc("near_skipped_no_words")
                else:
                    bands = tuple(band_keys(signature, config.bands, config.rows_per_band))
            keys.append(
                DedupKeys(
                    doc.id,
                    url_key(doc) if config.url else "",
                    fetch_order(doc),
                    text_key(doc) if config.exact else b"",
                    bands,
                    doc.dup_cluster_size,
                )
            )
        return keys


class _GroupDecisionFn(beam.DoFn):
    """A decision over a (key, Iterable[DedupKeys]) group: survivors on the main output, decisions on DECISIONS.
    A failure costs the group's documents: each gets a `failed` decision."""

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process(self, group):
        members = list(group[1])
        try:
            outputs = list(self.decide(members))
        except Exception as err:  # noqa: BLE001 -- a poison record must not end the run
            error = StageError.of(err)
            for member in members:
                self._counter.inc("stage_error")
                yield _decision(member.id, FAILED, error)
            return
        yield from outputs

    def decide(self, members: list[DedupKeys]) -> Iterable:
        raise NotImplementedError


class _KeepLatestFetchFn(_GroupDecisionFn):
    def decide(self, members: list[DedupKeys]):
        # (url key, Iterable[DedupKeys]) -> the latest fetch; the others are URL duplicates
        survivor = min(members, key=lambda keys: keys.fetch_order)
        yield survivor
        for member in members:
            if member is not survivor:
                yield _decision(member.id, "url", survivor.id)


class _KeepOnePerTextFn(_GroupDecisionFn):
    def decide(self, members: list[DedupKeys]):
        # (text key, Iterable[DedupKeys]) -> the smallest id, carrying the group's dup_cluster_size
        survivor = min(members, key=lambda keys: keys.id)
        size = sum(member.weight for member in members)
        if size != survivor.weight:
            yield _decision(survivor.id, WEIGHT, size)
        yield survivor._replace(weight=size)
        for member in members:
            if member is not survivor:
                yield _decision(member.id, "exact", survivor.id)


class BucketMembers(beam.CombineFn):
    """An LSH bucket as (member count, its `limit` smallest members, sorted), in bounded memory."""

    def __init__(self, limit: int):
        super().__init__()
        self._limit = limit

    def create_accumulator(self):
        return 0, []

    def add_input(self, accumulator, member):
        count, members = accumulator
        members.append(member)
        return count + 1, self._trimmed(members)

    def merge_accumulators(self, accumulators):
        count, members = 0, []
        for part_count, part in accumulators:
            count += part_count
            members.extend(part)
        return count, self._trimmed(members)

    def extract_output(self, accumulator):
        count, members = accumulator
        return count, heapq.nsmallest(self._limit, members)

    def _trimmed(self, members: list) -> list:
        return heapq.nsmallest(self._limit, members) if len(members) > 2 * self._limit else members


class _BucketEdgesFn(beam.DoFn):
    def __init__(self, limit: int):
        self._limit = limit

    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process(self, bucket):
        # (band key, (count, smallest members)) -> (smallest, member) edges; capping on STATS
        _, (count, members) = bucket
        if count > self._limit:
            self._counter.inc("lsh_buckets_capped")
            self._counter.inc("lsh_members_capped", count - self._limit)
            yield beam.pvalue.TaggedOutput(STATS, ("lsh_buckets_capped", 1))
            yield beam.pvalue.TaggedOutput(STATS, ("lsh_members_capped", count - self._limit))
        if len(members) > 1:
            yield beam.pvalue.TaggedOutput(STATS, ("candidate_edges", len(members) - 1))
            for member in members[1:]:
                yield members[0], member


def near_decisions(node_label):
    """((id, weight), (survivor id, survivor weight)) of a duplicate -> its drop, and its weight to the survivor."""
    (doc_id, weight), (survivor, _) = node_label
    yield doc_id, ("near", survivor)
    yield survivor, (ABSORBED, weight)


def band_nodes(keys: DedupKeys):
    node = (keys.id, keys.weight)
    for band in keys.bands:
        yield band, node


class _ApplyDecisionsFn(beam.DoFn):
    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process(self, joined):
        # (id, {doc: [packed Document], decision: [(kind, value)]})
        #   -> the Document (dup_cluster_size set), a duplicate's Rejection, or STAGE_ERROR when a step failed on it
        _, groups = joined
        docs = [unpack(blob) for blob in groups["doc"]]
        decisions = list(groups["decision"])
        failed = [value for kind, value in decisions if kind == FAILED]
        if failed:
            yield from dead_lettered(STAGE, docs, failed[0], self._counter)
            return
        drop = next(((kind, value) for kind, value in decisions if kind in _DROPS), None)
        weight = next((value for kind, value in decisions if kind == WEIGHT), None)
        absorbed = sum(value for kind, value in decisions if kind == ABSORBED)
        for doc in docs:
            if drop is not None:
                kind, survivor = drop
                yield rejected(Rejection(STAGE, _DROPS[kind], doc.id, doc.url, _KEPT + survivor), self._counter)
            elif weight is None and not absorbed:
                yield doc
            else:
                size = (doc.dup_cluster_size if weight is None else weight) + absorbed
                yield dataclasses.replace(doc, dup_cluster_size=size)


class KeyOutput(NamedTuple):
    keys: beam.PCollection  # PCollection[DedupKeys]: the survivors of the step
    decisions: beam.PCollection  # PCollection[(id, (kind, value))]


def _group_decide(keys, name: str, key_of, decide_fn: _GroupDecisionFn) -> KeyOutput:
    """`KeyBy<name>` | `GroupBy<name>` | `Decide<name>`: ids and hashes only."""
    results = (
        keys
        | f"KeyBy{name}" >> beam.Map(lambda k: (key_of(k), k))
        | f"GroupBy{name}" >> beam.GroupByKey()
        | f"Decide{name}" >> beam.ParDo(decide_fn).with_outputs(DECISIONS, main="keys")
    )
    return KeyOutput(results.keys, results[DECISIONS])


class DedupUrls(beam.PTransform):
    def expand(self, keys) -> KeyOutput:
        return _group_decide(keys, "Url", lambda k: k.url_key, _KeepLatestFetchFn())


class DedupExactTexts(beam.PTransform):
    def expand(self, keys) -> KeyOutput:
        return _group_decide(keys, "Text", lambda k: k.text_key, _KeepOnePerTextFn())


class NearOutput(NamedTuple):
    decisions: beam.PCollection  # PCollection[(id, (kind, value))]
    stats: beam.PCollection  # PCollection[(stat name, count)]


class DedupNearTexts(beam.PTransform):
    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, keys) -> NearOutput:
        config = self._config
        buckets = (
            keys
            | "BandNodes" >> beam.FlatMap(band_nodes)  # (band key, (id, weight))
            | "Buckets" >> beam.CombinePerKey(BucketMembers(config.max_bucket_size))
            | "BucketEdges" >> beam.ParDo(_BucketEdgesFn(config.max_bucket_size)).with_outputs(STATS, main="edges")
        )
        components = buckets.edges | "Components" >> ConnectedComponents(
            config.components_rounds, namespace=STAGE, max_residual_edges=config.components_max_residual_edges
        )
        # PCollection[((id, weight), (survivor id, survivor weight))]; survivors are labelled with themselves
        decisions = (
            components.labels
            | "Duplicates" >> beam.Filter(lambda node_label: node_label[0] != node_label[1])
            | "NearDecisions" >> beam.FlatMap(near_decisions)
        )
        unsettled = components.unsettled | "CountUnsettled" >> beam.Map(lambda _: ("unsettled_nodes", 1))
        stats = (buckets[STATS], unsettled) | "NearStats" >> beam.Flatten()
        return NearOutput(decisions, stats)


def _stats_dict(pairs: list[tuple[str, int]]) -> dict[str, int]:
    totals = dict(pairs)
    return {name: totals.get(name, 0) for name in STAT_NAMES}


class Deduplicate(beam.PTransform):
    """PCollection[Document] -> StageOutput(kept: Document with dup_cluster_size, dropped: Rejection, dead_letters).

    After it is applied, `stats` is a one-element PCollection[dict]: `STAT_NAMES` -> count.
    """

    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config
        self.stats = None

    def expand(self, docs) -> StageOutput:
        config = self._config
        pipeline = docs.pipeline
        none = pipeline | "NoEvents" >> beam.Create([])  # Flatten needs one input; an empty one adds nothing
        stats = [none]
        if not (config.url or config.exact or config.near):
            self.stats = self._collect_stats(stats)
            return StageOutput(docs | "NothingToDo" >> beam.Map(lambda doc: doc), none, none)
        keyed = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=_KEYS_BATCH, max_batch_size=_KEYS_BATCH)
            | "Keys" >> beam.ParDo(_KeysFn(config)).with_outputs(DECISIONS, main="keys")
        )
        keys, decisions = keyed.keys, [keyed[DECISIONS]]
        if config.url:
            step = keys | "DedupUrls" >> DedupUrls()
            keys = step.keys
            decisions.append(step.decisions)
        if config.exact:
            step = keys | "DedupExactTexts" >> DedupExactTexts()
            keys = step.keys
            decisions.append(step.decisions)
        if config.near:
            near = keys | "DedupNearTexts" >> DedupNearTexts(config)
            decisions.append(near.decisions)
            stats.append(near.stats)
        self.stats = self._collect_stats(stats)
        results = (
            {
                "doc": docs | "KeyById" >> beam.Map(lambda doc: (doc.id, pack(doc))),
                "decision": decisions | "AllDecisions" >> beam.Flatten(),
            }
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "ApplyDecisions" >> beam.ParDo(_ApplyDecisionsFn()).with_outputs(DROPPED, DEAD_LETTER, main="kept")
        )
        return StageOutput(results.kept, results[DROPPED], results[DEAD_LETTER])

    @staticmethod
    def _collect_stats(stats: list) -> beam.PCollection:
        return (
            stats
            | "AllStats" >> beam.Flatten()
            | "SumStats" >> beam.CombineGlobally(SumByKey())
            | "StatsDict" >> beam.Map(_stats_dict)
        )


def cluster_member(rejection: Rejection):
    """A dedup drop -> ((step, survivor id), dropped id); its detail reads `kept=<survivor id>`. Other drops:
    nothing."""
    step = _CLUSTER_STEPS.get(rejection.reason)
    if step is not None and rejection.detail.startswith(_KEPT):
        yield (step, rejection.detail.removeprefix(_KEPT)), rejection.id


def cluster_line(cluster) -> str:
    (step, survivor), duplicates = cluster
    return json.dumps({"step": step, "survivor": survivor, "duplicates": sorted(duplicates)})


class WriteDuplicateClusters(beam.PTransform):
    """Deduplicate's drops -> `OUT/dedup_clusters/part-*.jsonl` (`dedup.write_clusters`), ids only.

    One line per step and survivor: `{"step": "url"|"exact"|"near", "survivor": id,
    "duplicates": [ids]}`. Steps run in that order, so a survivor of one step can be
    a duplicate in the next (an exact survivor later found a near-duplicate): follow
    its id to the line where it is a duplicate. A survivor can also be dropped later
    by another stage (quality); the funnel and `dup_cluster_size` count the same drops.
    """

    def __init__(self, output_dir: str):
        super().__init__()
        self._prefix = under(output_dir, f"{CLUSTERS_DIR}/part")

    def expand(self, dropped):
        return (
            dropped
            | "ClusterMembers" >> beam.FlatMap(cluster_member)
            | "GroupClusters" >> beam.GroupByKey()
            | "ToJsonLine" >> beam.Map(cluster_line)
            | "WriteJsonLines" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl", skip_if_empty=True)
        )
