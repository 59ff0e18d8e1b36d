"""What bench/fuzz_warc_reader.py checks, kept in the suite without atheris: seeded byte
mutations of the bad-input corpus never make `read_archive` raise or account for a
record twice. atheris runs (2 x 90 s on gzip and plain seeds, 60 s on the extractor)
found no crash; an input that ever does gets its own test here, byte for byte.
"""

from __future__ import annotations

import gzip
import io
import random
import zlib

import pytest

from pipeline.config import IngestConfig
from pipeline.core.records import Capture, Rejection
from pipeline.fixtures.bad_inputs import CASES
from pipeline.warc.reader import read_archive

_MAX_SEED_BYTES = 64 * 1024  # as the fuzzer: the bombs and the 50 MiB page are tested in tests/e2e
_MUTATIONS = 25
_CONFIG = IngestConfig(max_payload_bytes=256 * 1024)


def _seeds() -> list[tuple[str, bytes]]:
    seeds = []
    for build in CASES:
        data, case = build()
        if len(data) > _MAX_SEED_BYTES:  # never inflate a bomb
            continue
        seeds.append((f"{case.name}.gz", data))
        try:
            seeds.append((case.name, gzip.decompress(data)))
        except (OSError, EOFError, zlib.error):  # truncated and garbage cases are not whole gzip streams
            pass
    return [(name, data) for name, data in seeds if len(data) <= _MAX_SEED_BYTES]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One libFuzzer-like edit: flip, delete, duplicate or insert bytes, or cut the end."""
    out = bytearray(data)
    at = rng.randrange(len(out))
    edit = rng.randrange(5)
    if edit == 0:
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif edit == 1:
        del out[at : at + rng.randint(1, 200)]
    elif edit == 2:
        out[at:at] = out[at : at + rng.randint(1, 200)]
    elif edit == 3:
        out[at:at] = rng.randbytes(rng.randint(1, 64))
    else:
        del out[at:]
    return bytes(out)


def _check(data: bytes) -> None:
    seen = set()
    for result in read_archive(io.BytesIO(data), "fuzz.warc.gz", _CONFIG):
        assert isinstance(result, (Capture, Rejection))
        if isinstance(result, Capture):
            assert isinstance(result.content, str)
        assert result.id not in seen, f"two results for record {result.id}"
        seen.add(result.id)


@pytest.mark.parametrize(("name", "seed"), _seeds(), ids=lambda v: v if isinstance(v, str) else "")
def test_mutations_of_the_corpus_are_read_without_error(name, seed):
    rng = random.Random(name)
    for _ in range(_MUTATIONS):
        _check(_mutate(seed, rng))
