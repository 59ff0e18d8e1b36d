"""`Deduplicate`: one document per URL, per normalized text, and per near-duplicate cluster.

    docs | DedupUrls | DedupExactTexts | DedupNearTexts        (each switched by DedupConfig)

URL: documents are grouped by `normalize_url`. The latest fetch survives
(WARC-Date; an unparseable date counts as oldest; ties go to the smallest id),
the others are URL_DUPLICATE. A refetch is the same page, not a copy: it does
not count in `dup_cluster_size`.

Exact: documents are grouped by a 128-bit hash of `normalize_for_dedup` (FineWeb's
normalization). One survives, the others are EXACT_DUPLICATE. A text that
normalizes to nothing (only symbols) is compared with nothing.

Near: MinHash LSH as FineWeb. Signatures of word 5-grams (`filters.minhash`,
14 bands x 8 rows by default: pairs above Jaccard ~0.72 are likely caught)
-> `(band, band values) -> doc` -> one shuffle per bucket -> candidate edges,
a star from each bucket's smallest member -> `ConnectedComponents` (Beam
shuffles only: alternating large-star/small-star rounds) -> one survivor per
component, the others NEAR_DUPLICATE. No step holds more than one bucket or one
node's neighbourhood on a worker.

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

Non-convergence: after `components_rounds` rounds, a node whose component is
not yet a star is "unsettled": it is kept, as the survivor of whatever is
labelled with it, so a component may come out as several clusters (too little
removed, never too much) and every dropped document names a kept survivor.
Unsettled nodes are counted (12 rounds settle random chains of ~50,000 nodes;
duplicate clusters are stars and settle in one or two).

Poison records (pipeline/accounting/guard.py): keying a document (URL or text key), a
group's decision and the near decision are guarded; a failure there drops the
document(s) it held as STAGE_ERROR and dead-letters them. A MinHash signature
that fails is retried one document at a time; the document that fails alone is
dead-lettered at the near decision, where its one copy is. Bucket, edge and
connected-components steps see ids and numbers only, never text.

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
from typing import NamedTuple

import apache_beam as beam

from filters.minhash import EMPTY, MinHasher, band_keys
from filters.text_normalization import normalize_url, normalized_code_points
from pipeline.accounting.guard import (
    DEAD_LETTER,
    DROPPED,
    BeamCounter,
    StageError,
    StageFn,
    StageOutput,
    dead_lettered,
    flatten_outputs,
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
SIGNATURE_FAILED = "signature_failed"
_KEPT = "kept="  # a dedup drop's detail: _KEPT + the id of the document that survived in its place
_CLUSTER_STEPS = {
    DropReason.URL_DUPLICATE: "url",
    DropReason.EXACT_DUPLICATE: "exact",
    DropReason.NEAR_DUPLICATE: "near",
}
STAT_NAMES = ("lsh_buckets_capped", "lsh_members_capped", "candidate_edges", "unsettled_nodes")
_SIGNATURE_BATCH = 128  # documents per MinHasher call: amortizes numpy's per-call cost (~4x faster than one by one)


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


class _KeyByFn(StageFn):
    """Document -> (key_of(document), packed document): documents cross the grouping packed."""

    stage = STAGE

    def __init__(self, key_of):
        self._key_of = key_of

    def process_one(self, doc: Document):
        yield self._key_of(doc), pack(doc)


class _GroupFn(StageFn):
    """A step on a (key, Iterable[packed Document]) group: a failure costs the group's documents."""

    stage = STAGE

    def documents_of(self, element) -> list[Document]:
        return [unpack(blob) for blob in element[1]]


class _KeepLatestFetchFn(_GroupFn):
    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process_one(self, url_docs):
        # (url key, Iterable[packed Document]) -> the latest fetch; the others are URL_DUPLICATE
        docs = self.documents_of(url_docs)
        best = min(fetch_order(doc) for doc in docs)
        kept = False
        for doc in docs:
            if not kept and fetch_order(doc) == best:
                kept = True
                yield doc
            else:
                yield rejected(
                    Rejection(STAGE, DropReason.URL_DUPLICATE, doc.id, doc.url, _KEPT + best[1]), self._counter
                )


class _KeepOnePerTextFn(_GroupFn):
    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def process_one(self, text_docs):
        # (text key, Iterable[packed Document]) -> the smallest id, carrying the group's dup_cluster_size
        docs = self.documents_of(text_docs)
        survivor = min(doc.id for doc in docs)
        size = sum(doc.dup_cluster_size for doc in docs)
        kept = False
        for doc in docs:
            if not kept and doc.id == survivor:
                kept = True
                yield dataclasses.replace(doc, dup_cluster_size=size)
            else:
                yield rejected(
                    Rejection(STAGE, DropReason.EXACT_DUPLICATE, doc.id, doc.url, _KEPT + survivor), self._counter
                )


class _BandsFn(beam.DoFn):
    def __init__(self, config: DedupConfig):
        self._config = config

    def setup(self) -> None:
        config = self._config
        self._counter = BeamCounter(STAGE)
        self._hasher = MinHasher(num_perm=config.bands * config.rows_per_band, ngram=config.ngram, seed=config.seed)

    def process(self, batch: list[Document]):
        # list[Document] -> (band key, node) for every band of every document with words; node = (id, weight).
        # A batch that fails is retried one document at a time; a document that fails alone goes out on
        # SIGNATURE_FAILED as (id, StageError), and the join dead-letters it (its copy there is the one counted).
        try:
            keyed = list(self._band_keys(batch))
        except Exception as err:  # noqa: BLE001 -- a poison record must not end the run
            if len(batch) > 1:
                for doc in batch:
                    yield from self.process([doc])
            else:
                yield beam.pvalue.TaggedOutput(SIGNATURE_FAILED, (batch[0].id, StageError.of(err)))
            return
        yield from keyed

    def _band_keys(self, batch: list[Document]):
        signatures = self._hasher.signatures([doc.text for doc in batch])  # (len(batch), bands * rows)
        for doc, signature in zip(batch, signatures):
            if (signature == EMPTY).all():
                self._counter.inc("near_skipped_no_words")
                continue
            node = (doc.id, doc.dup_cluster_size)
            for key in band_keys(signature, self._config.bands, self._config.rows_per_band):
                yield key, node


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


class _ApplyNearDecisionFn(_GroupFn):
    def setup(self) -> None:
        self._counter = BeamCounter(STAGE)

    def documents_of(self, element) -> list[Document]:
        return [unpack(blob) for blob in element[1]["doc"]]

    def process_one(self, joined):
        # (id, {doc: [packed Document], survivor: [id], absorbed: [weight], failed: [StageError]})
        #   -> kept Document, NEAR_DUPLICATE, or STAGE_ERROR when its signature failed
        _, groups = joined
        failed = list(groups["failed"])
        if failed:
            yield from dead_lettered(STAGE, self.documents_of(joined), failed[0], self._counter)
            return
        survivors = list(groups["survivor"])
        absorbed = sum(groups["absorbed"])
        for doc in self.documents_of(joined):
            if survivors:
                yield rejected(
                    Rejection(STAGE, DropReason.NEAR_DUPLICATE, doc.id, doc.url, _KEPT + survivors[0]), self._counter
                )
            elif absorbed:
                yield dataclasses.replace(doc, dup_cluster_size=doc.dup_cluster_size + absorbed)
            else:
                yield doc


def _split(results) -> StageOutput:
    return StageOutput(results.kept, results[DROPPED], results[DEAD_LETTER])


def _group_by(docs, name: str, key_of, keep_label: str, keep_fn: StageFn) -> StageOutput:
    """Key documents, group them, and keep one per group: `KeyBy<name>` | `GroupBy<name>` | `keep_label`."""
    keyed = docs | f"KeyBy{name}" >> beam.ParDo(_KeyByFn(key_of)).with_outputs(DROPPED, DEAD_LETTER, main="kept")
    kept = _split(
        keyed.kept
        | f"GroupBy{name}" >> beam.GroupByKey()
        | keep_label >> beam.ParDo(keep_fn).with_outputs(DROPPED, DEAD_LETTER, main="kept")
    )
    return flatten_outputs(f"{name}Steps", kept.kept, [_split(keyed), kept])


class DedupUrls(beam.PTransform):
    def expand(self, docs) -> StageOutput:
        return _group_by(docs, "Url", url_key, "KeepLatestFetch", _KeepLatestFetchFn())


class DedupExactTexts(beam.PTransform):
    def expand(self, docs) -> StageOutput:
        return _group_by(docs, "Text", text_key, "KeepOnePerText", _KeepOnePerTextFn())


class NearOutput(NamedTuple):
    kept: beam.PCollection  # PCollection[Document]
    dropped: beam.PCollection  # PCollection[Rejection]
    stats: beam.PCollection  # PCollection[(stat name, count)]
    dead_letters: beam.PCollection  # PCollection[DeadLetter]


class DedupNearTexts(beam.PTransform):
    def __init__(self, config: DedupConfig):
        super().__init__()
        self._config = config

    def expand(self, docs) -> NearOutput:
        config = self._config
        signed = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=_SIGNATURE_BATCH, max_batch_size=_SIGNATURE_BATCH)
            | "Bands" >> beam.ParDo(_BandsFn(config)).with_outputs(SIGNATURE_FAILED, main="keys")
        )
        buckets = (
            signed.keys  # PCollection[(band key, (id, weight))]
            | "Buckets" >> beam.CombinePerKey(BucketMembers(config.max_bucket_size))
            | "BucketEdges" >> beam.ParDo(_BucketEdgesFn(config.max_bucket_size)).with_outputs(STATS, main="edges")
        )
        components = buckets.edges | "Components" >> ConnectedComponents(config.components_rounds, namespace=STAGE)
        # PCollection[((id, weight), (survivor id, survivor weight))], survivors left out
        duplicates = components.labels | "Duplicates" >> beam.Filter(lambda node_label: node_label[0] != node_label[1])
        survivor_of = duplicates | "SurvivorOf" >> beam.Map(lambda nl: (nl[0][0], nl[1][0]))  # (id, survivor id)
        absorbed = (
            duplicates
            | "WeightToSurvivor" >> beam.Map(lambda nl: (nl[1][0], nl[0][1]))
            | "Absorbed" >> beam.CombinePerKey(sum)  # (survivor id, documents absorbed)
        )
        results = (
            {
                "doc": docs | "KeyById" >> beam.Map(lambda doc: (doc.id, pack(doc))),
                "survivor": survivor_of,
                "absorbed": absorbed,
                "failed": signed[SIGNATURE_FAILED],
            }
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "ApplyDecisions" >> beam.ParDo(_ApplyNearDecisionFn()).with_outputs(DROPPED, DEAD_LETTER, main="kept")
        )
        unsettled = components.unsettled | "CountUnsettled" >> beam.Map(lambda _: ("unsettled_nodes", 1))
        stats = (buckets[STATS], unsettled) | "NearStats" >> beam.Flatten()
        return NearOutput(results.kept, results[DROPPED], stats, results[DEAD_LETTER])


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
        steps, stats = [], []
        if config.url:
            steps.append(docs | "DedupUrls" >> DedupUrls())
            docs = steps[-1].kept
        if config.exact:
            steps.append(docs | "DedupExactTexts" >> DedupExactTexts())
            docs = steps[-1].kept
        if config.near:
            near = docs | "DedupNearTexts" >> DedupNearTexts(config)
            steps.append(StageOutput(near.kept, near.dropped, near.dead_letters))
            stats.append(near.stats)
            docs = near.kept
        if not steps:
            docs = docs | "NothingToDo" >> beam.Map(lambda doc: doc)
        none = docs.pipeline | "NoEvents" >> beam.Create([])  # Flatten needs one input; an empty one adds nothing
        self.stats = (
            [*stats, none]
            | "AllStats" >> beam.Flatten()
            | "SumStats" >> beam.CombinePerKey(sum)
            | "CollectStats" >> beam.combiners.ToList()
            | "StatsDict" >> beam.Map(_stats_dict)
        )
        return flatten_outputs("All", docs, steps)


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
