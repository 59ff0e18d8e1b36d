"""Near-duplicate detection measured against exact Jaccard, on real texts with planted edits.

The corpus: main texts extracted (trafilatura, the pipeline's settings) from the
real pages of `extraction/trafilatura-eval/html/`, and variants of each made by
controlled edits (`Edit`), each aimed at a Jaccard similarity to its base. A
target is only aimed at: the edit count is searched so that the variant's exact
Jaccard to its base lands as near the target as the text allows, and that
measured value is what every figure uses.

Similarity is dedup's own: the Jaccard of two texts' sets of word 5-gram
shingle hashes, as `MinHasher.shingle_hashes` makes them from
`normalized_code_points` (FineWeb normalization). That is the quantity MinHash
estimates, so the S-curve 1 - (1 - J^r)^b applies to it exactly; the 32-bit
shingle hashes make it equal to the Jaccard of word 5-gram sets except for
rare hash collisions.

Ground truth is brute force: the exact Jaccard of every pair of texts, as one
sparse product (texts x shingles) @ (shingles x texts) of intersection counts;
a pair absent from the result shares no shingle, its Jaccard is exactly 0.

Detection is scored on cluster labels, `labels[i]` = the index of the text that
survived for text i (itself when it was kept). They come from the real Beam
`Deduplicate` stage (`clusters_from_survivors` reads its NEAR_DUPLICATE
rejections, `kept=<survivor id>`), or from `lsh_clusters`, the same algorithm
in plain numpy (MinHasher -> band keys -> star edges per bucket -> connected
components -> smallest id survives) without bucket capping or round limits.

- A pair is *detected* when both texts end up in one cluster: one text survives
  for both. Clusters are connected components, so a pair can be detected
  through a chain of others even if its own signatures share no band.
- A pair *shares a band* when its two signatures agree on all rows of at least
  one LSH band: the event whose probability is the S-curve.
- A removed text is *correct at t* when its Jaccard to its survivor is >= t
  (strict: the survivor stands for it), or, more leniently, to at least one
  other member of its cluster.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from filters.minhash import EMPTY, MinHasher, band_keys
from filters.text_normalization import normalized_code_points
from pipeline.config import DedupConfig

FINEWEB_DETECTION = {0.7: 0.56, 0.75: 0.77, 0.8: 0.92, 0.85: 0.988}
"""Probability that a pair of this Jaccard is caught with 14 bands x 8 rows, as the FineWeb
blog reports it ("FineWeb: decanting the web", deduplication section): the S-curve's values."""

RECALL_AT = 0.8  # pairs at or above this Jaccard should be found (the recall figure)
PRECISION_AT = (0.7, 0.8)  # a removed text is correct when this similar to what survived
CURVE_HALF_WIDTH = 0.025  # a curve point at J counts the pairs with Jaccard in [J - w, J + w)
_PAIR_BLOCK = 2048  # texts per row block of the sparse product: bounds its memory on common shingles
_TOKEN = re.compile(r"\S+\s*")  # a word with the whitespace after it: "".join(tokens) rebuilds the text


class Edit(enum.Enum):
    """How a variant departs from its base; the edit count is searched to reach a target Jaccard."""

    INSERT = "insert"  # single words from another text, inserted at random places
    DELETE = "delete"  # single words deleted at random places
    BOILERPLATE = "boilerplate"  # the first or last words replaced by boilerplate snippets of other pages
    MIXED = "mixed"  # two neighbouring paragraphs swapped, then insertions and deletions interleaved


@dataclasses.dataclass(frozen=True, slots=True)
class CorpusText:
    text: str
    base: int  # index of the base text it was made from (its own index for a base)
    edit: Edit | None = None  # None for a base
    target: float | None = None  # the Jaccard aimed at; None for a base
    jaccard: float = 1.0  # measured exact Jaccard to its base


@dataclasses.dataclass(frozen=True, slots=True)
class JaccardPairs:
    """Every pair (i < j) sharing at least one shingle, with its exact Jaccard; all other pairs have 0."""

    pairs: np.ndarray  # (P, 2) int64, i < j
    jaccard: np.ndarray  # (P,) float64


@dataclasses.dataclass(frozen=True, slots=True)
class CurvePoint:
    jaccard: float  # bin centre
    pairs: int  # pairs with Jaccard in [centre - CURVE_HALF_WIDTH, centre + CURVE_HALF_WIDTH)
    shared_band: float  # share of those pairs whose signatures share a band
    detected: float  # share of those pairs in one cluster
    theory: float  # the S-curve at the centre
    theory_expected: float  # the S-curve averaged over the bin's pairs' Jaccards

    @property
    def fineweb(self) -> float | None:
        return FINEWEB_DETECTION.get(round(self.jaccard, 3))


@dataclasses.dataclass(frozen=True, slots=True)
class NearDupScores:
    texts: int
    removed: int
    pairs_at_recall: int  # pairs with Jaccard >= RECALL_AT
    recall: float  # share of them detected
    precision_survivor: Mapping[float, float]  # t -> share of removed texts with Jaccard >= t to their survivor
    precision_any: Mapping[float, float]  # t -> ... to at least one other member of their cluster
    curve: tuple[CurvePoint, ...]


def s_curve(jaccard: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two signatures of this Jaccard share at least one of `bands` bands of `rows` rows."""
    return 1 - (1 - np.asarray(jaccard, dtype=np.float64) ** rows) ** bands


class Shingler:
    """Sets of word n-gram shingle hashes, exactly as `MinHasher` hashes them before permuting."""

    def __init__(self, ngram: int = 5):
        self._hasher = MinHasher(num_perm=1, ngram=ngram)

    def shingle_sets(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per text, its distinct shingle hashes: sorted (S_i,) uint32."""
        hashes, offsets = self._hasher.shingle_hashes([normalized_code_points(text) for text in texts])
        return [np.unique(hashes[offsets[i] : offsets[i + 1]]) for i in range(len(texts))]

    def shingles(self, text: str) -> np.ndarray:
        return self.shingle_sets([text])[0]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted sets of distinct hashes (two empty sets: 0, they are compared with nothing)."""
    shared = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


def text_jaccard(a: str, b: str, ngram: int = 5) -> float:
    """Exact Jaccard of two texts' shingle sets, as `Deduplicate` shingles them."""
    shingler = Shingler(ngram)
    return jaccard(shingler.shingles(a), shingler.shingles(b))


def replace_words(rng: random.Random, text: str, share: float, pool: Sequence[str]) -> str:
    """`text` with `share` of its words (at least one) replaced by words of sentences drawn from `pool`."""
    lines = [line.split(" ") for line in text.split("\n")]
    places = [(i, j) for i, line in enumerate(lines) for j in range(len(line))]
    for i, j in rng.sample(places, max(1, round(share * len(places)))):
        lines[i][j] = rng.choice(rng.choice(pool).split(" "))
    return "\n".join(" ".join(line) for line in lines)


def decorate(text: str) -> str:
    """Each line as a list item and commas as middle dots: the same words, other symbols."""
    return "\n".join("• " + line.replace(", ", " · ") for line in text.split("\n"))


EDIT_HTML_PARAGRAPH = (
    "<p>This paragraph was added to a copy of the page so that the copy is a near-duplicate, not an exact one.</p>"
)


def edit_html(payload: bytes, rng: random.Random) -> bytes:
    """A near-duplicate: a sentence after a paragraph of the body, and one word of it deleted."""
    html = payload.decode("utf-8", errors="surrogateescape")
    ends = [m.end() for m in re.finditer(r"</p\s*>", html, flags=re.IGNORECASE)]
    at = ends[len(ends) // 2] if ends else max(html.lower().rfind("</body"), 0)
    html = html[:at] + EDIT_HTML_PARAGRAPH + html[at:]
    words = [m for m in re.finditer(r"(?<=>)([^<>]*?)\b([A-Za-z]{4,})\b ", html[at:])]
    if words:
        m = words[rng.randrange(len(words))]
        html = html[: at + m.start(2)] + html[at + m.end(2) + 1 :]
    return html.encode("utf-8", errors="surrogateescape")


def make_variant(
    base: str,
    target: float,
    edit: Edit,
    rng: random.Random,
    *,
    donor: str,
    boilerplate: Sequence[str],
    shingler: Shingler,
) -> tuple[str, float]:
    """A variant of `base` whose exact Jaccard to it is as near `target` as `edit` allows: (text, Jaccard).

    The edit is drawn once as an ordered plan of single-word operations (or a
    block length, for BOILERPLATE); applying its first k steps is close to
    monotone in Jaccard, so k is found by bisection.
    """
    apply = _edit_plan(base, edit, rng, donor=donor, boilerplate=boilerplate)
    base_set = shingler.shingles(base)
    measured: dict[int, tuple[str, float]] = {}

    def at(k: int) -> tuple[str, float]:
        if k not in measured:
            text = apply(k)
            measured[k] = (text, jaccard(base_set, shingler.shingles(text)))
        return measured[k]

    lo, hi = 0, len(_TOKEN.findall(base))  # the smallest k with Jaccard <= target lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid)[1] <= target:
            hi = mid
        else:
            lo = mid + 1
    candidates = [at(k) for k in (lo - 1, lo) if k >= 0]
    return min(candidates, key=lambda text_jaccard: abs(text_jaccard[1] - target))


def _edit_plan(
    base: str, edit: Edit, rng: random.Random, *, donor: str, boilerplate: Sequence[str]
) -> Callable[[int], str]:
    """k -> the base with the first k steps of a random plan of `edit` applied."""
    if edit is Edit.BOILERPLATE:
        tokens = _TOKEN.findall(base)
        block = _TOKEN.findall("\n".join(boilerplate) + "\n")
        block = (block * (len(tokens) // max(len(block), 1) + 1))[
            : len(tokens)
        ]  # as long as the base, repeated if short
        if rng.random() < 0.5:  # a header replaced
            return lambda k: "".join(block[:k] + tokens[k:])
        return lambda k: "".join(tokens[: len(tokens) - k] + block[len(block) - k :])  # a footer replaced

    if edit is Edit.MIXED:
        paragraphs = base.split("\n")
        if len(paragraphs) >= 2:  # neighbours: 3 paragraph joins change, ~12 shingles (J ~0.93 on 300 words)
            i = rng.randrange(len(paragraphs) - 1)
            paragraphs[i], paragraphs[i + 1] = paragraphs[i + 1], paragraphs[i]
        base = "\n".join(paragraphs)
    tokens = _TOKEN.findall(base)
    donor_words = [token.strip() for token in _TOKEN.findall(donor)] or ["inserted"]
    # one step per original token at most: (position, word to insert before it, or None to delete it)
    positions = rng.sample(range(len(tokens)), len(tokens))
    kinds = {Edit.INSERT: [True], Edit.DELETE: [False], Edit.MIXED: [True, False]}[edit]
    steps = [(p, rng.choice(donor_words) if rng.choice(kinds) else None) for p in positions]

    def apply(k: int) -> str:
        changes = dict(steps[:k])
        out = []
        for position, token in enumerate(tokens):
            if position not in changes:
                out.append(token)
            elif changes[position] is not None:
                out.extend((changes[position] + " ", token))
        return "".join(out)

    return apply


def build_corpus(
    bases: Sequence[str],
    boilerplate: Sequence[Sequence[str]],
    targets: Sequence[Sequence[float]],
    *,
    seed: int = 0,
    ngram: int = 5,
) -> list[CorpusText]:
    """The bases, then per base i one variant per target in `targets[i]`, edits taken in turn from `Edit`.

    Donors (inserted words) are other bases; boilerplate comes from the pages'
    annotated snippets, starting at a random page and running on through the list.
    """
    rng = random.Random(seed)
    shingler = Shingler(ngram)
    corpus = [CorpusText(text, i) for i, text in enumerate(bases)]
    edits = list(Edit)
    snippets = [snippet for page in boilerplate for snippet in page]
    page_starts = np.cumsum([0] + [len(page) for page in boilerplate[:-1]])
    for i, base in enumerate(bases):
        for target in targets[i]:
            edit = edits[len(corpus) % len(edits)]
            donor = bases[(i + rng.randrange(1, len(bases))) % len(bases)] if len(bases) > 1 else ""
            start = int(page_starts[rng.randrange(len(page_starts))])
            block = (snippets[start:] + snippets[:start])[: len(base.split())]  # every snippet has >= 1 word
            text, measured = make_variant(base, target, edit, rng, donor=donor, boilerplate=block, shingler=shingler)
            corpus.append(CorpusText(text, i, edit, target, measured))
    return corpus


def exact_jaccard_pairs(sets: Sequence[np.ndarray]) -> JaccardPairs:
    """Brute force: the exact Jaccard of all pairs, as intersection counts of a sparse (texts x shingles) matrix."""
    sizes = np.array([len(s) for s in sets], dtype=np.int64)  # (N,)
    columns = np.unique(np.concatenate(sets), return_inverse=True)[1] if sizes.sum() else np.zeros(0, np.int64)
    rows = np.repeat(np.arange(len(sets)), sizes)
    matrix = sparse.csr_matrix(
        (np.ones(len(columns), np.int32), (rows, columns)), shape=(len(sets), columns.max(initial=-1) + 1)
    )
    found_pairs, found_jaccard = [], []
    for start in range(0, len(sets), _PAIR_BLOCK):
        shared = sparse.triu(matrix[start : start + _PAIR_BLOCK] @ matrix.T, k=1 + start).tocoo()  # (block, N) counts
        i, j = shared.row + start, shared.col
        found_pairs.append(np.stack([i, j], axis=1))
        found_jaccard.append(shared.data / (sizes[i] + sizes[j] - shared.data))
    pairs = np.concatenate(found_pairs) if found_pairs else np.zeros((0, 2), np.int64)
    values = np.concatenate(found_jaccard) if found_jaccard else np.zeros(0)
    return JaccardPairs(pairs.astype(np.int64), values.astype(np.float64))


def document_ids(count: int) -> list[str]:
    """Ids for the texts, in no relation to their order (like crawl-position hashes), so the survivor is any member."""
    return [hashlib.blake2b(str(i).encode(), digest_size=8).hexdigest() for i in range(count)]


def signatures(texts: Sequence[str], config: DedupConfig) -> np.ndarray:
    """(N, bands * rows) uint32, as `Deduplicate` computes them."""
    return MinHasher(num_perm=config.bands * config.rows_per_band, ngram=config.ngram, seed=config.seed).signatures(
        texts
    )


def share_a_band(sigs: np.ndarray, pairs: np.ndarray, config: DedupConfig) -> np.ndarray:
    """(P,) bool: the pair's signatures agree on every row of at least one band."""
    width = config.bands * config.rows_per_band
    equal = sigs[pairs[:, 0], :width] == sigs[pairs[:, 1], :width]  # (P, bands * rows)
    return equal.reshape(len(pairs), config.bands, config.rows_per_band).all(axis=2).any(axis=1)


def lsh_clusters(sigs: np.ndarray, ids: Sequence[str], config: DedupConfig) -> np.ndarray:
    """(N,) survivor index per text: `DedupNearTexts`'s algorithm in numpy, buckets uncapped, components exact.

    Texts without words (an all-EMPTY signature) are linked to nothing, as there.
    """
    buckets: dict[bytes, int] = {}  # band key -> its first member
    edges = []
    for i, signature in enumerate(sigs):
        if (signature == EMPTY).all():
            continue
        for key in band_keys(signature, config.bands, config.rows_per_band):
            first = buckets.setdefault(key, i)
            if first != i:
                edges.append((first, i))  # a star per bucket: the same components as Beam's star from its smallest id
    edges_array = np.array(edges, dtype=np.int64).reshape(-1, 2)
    graph = sparse.coo_matrix(
        (np.ones(len(edges_array)), (edges_array[:, 0], edges_array[:, 1])), shape=(len(sigs),) * 2
    )
    _, component = connected_components(graph, directed=False)
    survivor_of_component: dict[int, int] = {}
    for i in sorted(range(len(ids)), key=ids.__getitem__):  # smallest id first: it survives
        survivor_of_component.setdefault(component[i], i)
    return np.array([survivor_of_component[c] for c in component], dtype=np.int64)


def clusters_from_survivors(ids: Sequence[str], survivor_of: Mapping[str, str]) -> np.ndarray:
    """(N,) survivor index per text, from `Deduplicate`'s removals: removed id -> survivor id."""
    index = {doc_id: i for i, doc_id in enumerate(ids)}
    return np.array([index[survivor_of.get(doc_id, doc_id)] for doc_id in ids], dtype=np.int64)


def score_detection(
    sets: Sequence[np.ndarray],
    truth: JaccardPairs,
    labels: np.ndarray,
    shared_band: np.ndarray,
    config: DedupConfig,
    curve_at: Sequence[float] = tuple(FINEWEB_DETECTION),
) -> NearDupScores:
    """Recall at RECALL_AT, precision of removed texts at PRECISION_AT, and the detection curve at `curve_at`."""
    detected = labels[truth.pairs[:, 0]] == labels[truth.pairs[:, 1]]  # (P,)
    above = truth.jaccard >= RECALL_AT
    removed = np.flatnonzero(labels != np.arange(len(labels)))
    members: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        members.setdefault(int(label), []).append(i)
    to_survivor = np.array([jaccard(sets[i], sets[labels[i]]) for i in removed])
    to_any = np.array([max(jaccard(sets[i], sets[m]) for m in members[int(labels[i])] if m != i) for i in removed])
    curve = []
    for centre in curve_at:
        lo, hi = round(centre - CURVE_HALF_WIDTH, 9), round(centre + CURVE_HALF_WIDTH, 9)  # 0.7 - 0.025 is 0.67499...
        inside = (truth.jaccard >= lo) & (truth.jaccard < hi)  # (P,)
        count = int(inside.sum())
        curve.append(
            CurvePoint(
                jaccard=centre,
                pairs=count,
                shared_band=float(shared_band[inside].mean()) if count else float("nan"),
                detected=float(detected[inside].mean()) if count else float("nan"),
                theory=float(s_curve(centre, config.bands, config.rows_per_band)),
                theory_expected=float(s_curve(truth.jaccard[inside], config.bands, config.rows_per_band).mean())
                if count
                else float("nan"),
            )
        )
    return NearDupScores(
        texts=len(labels),
        removed=len(removed),
        pairs_at_recall=int(above.sum()),
        recall=float(detected[above].mean()) if above.any() else float("nan"),
        precision_survivor={
            t: float((to_survivor >= t).mean()) if len(removed) else float("nan") for t in PRECISION_AT
        },
        precision_any={t: float((to_any >= t).mean()) if len(removed) else float("nan") for t in PRECISION_AT},
        curve=tuple(curve),
    )


def format_report(scores: NearDupScores) -> str:
    """Markdown: the headline figures, then the curve beside the S-curve and FineWeb's reported values."""
    lines = [
        f"texts {scores.texts}, removed {scores.removed}",
        f"recall of pairs with J >= {RECALL_AT}: {scores.recall:.3f} ({scores.pairs_at_recall} pairs)",
    ]
    for t in PRECISION_AT:
        lines.append(
            f"precision of removed texts at J >= {t}: {scores.precision_survivor[t]:.3f} to their survivor, "
            f"{scores.precision_any[t]:.3f} to some cluster member"
        )
    lines += [
        "",
        "| J | pairs | detected (same cluster) | share a band | S-curve at J | S-curve over the pairs | FineWeb |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in scores.curve:
        fineweb = f"{p.fineweb:.3f}" if p.fineweb is not None else "-"
        lines.append(
            f"| {p.jaccard:.2f} | {p.pairs} | {p.detected:.3f} | {p.shared_band:.3f} | {p.theory:.3f} | "
            f"{p.theory_expected:.3f} | {fineweb} |"
        )
    return "\n".join(lines)
