"""Fuzz the WARC reader and the extraction wrapper with atheris, for a bounded time.

    .venv/bin/python bench/fuzz_warc_reader.py -max_total_time=60                    # read_archive
    .venv/bin/python bench/fuzz_warc_reader.py --target extract -max_total_time=60   # the sandboxed extractor

Flags after the script's own go to libFuzzer (`-max_total_time`, `-runs`, `-seed`).
The seeds come from the bad-input corpus (pipeline/fixtures/bad_inputs.py): its small files,
gzip and uncompressed, or for `extract` the HTML of its pages. The extractor runs
in the sandbox's child process, where libFuzzer sees no coverage: that target is
mutation without guidance, for hangs and crashes the wrapper must survive. The properties checked:

- `warc`: `read_archive` never raises, yields only Captures and Rejections (a
  Capture's content is `str`, a Rejection has a reason), and never yields two
  results for one record id.
- `extract`: `ExtractionSandbox.extract` on any decoded page returns a
  `SandboxResult` (text, timeout or error), never raises, and the sandbox keeps
  answering afterwards.

A failing input is written by libFuzzer as `crash-<sha1>` in the working folder;
keep it as a regression test in tests/pipeline/warc/test_fuzz_regressions.py.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import zlib
from pathlib import Path

try:
    import atheris
except ImportError:  # not in any extra: it has Linux wheels only
    sys.exit("bench/fuzz_warc_reader.py needs atheris: .venv/bin/pip install atheris")

with atheris.instrument_imports(include=["pipeline", "warcio"]):
    from pipeline.config import ExtractConfig, IngestConfig
    from pipeline.core.records import Capture, Rejection
    from pipeline.extraction.sandbox import ExtractionSandbox, SandboxResult
    from pipeline.fixtures.bad_inputs import write_corpus
    from pipeline.warc.decoding import decode_html
    from pipeline.warc.reader import read_archive

_MAX_SEED_BYTES = 64 * 1024  # libFuzzer's -max_len follows the largest seed; the bombs would slow every run
_CONFIG = IngestConfig(max_payload_bytes=256 * 1024)


def check_warc(data: bytes) -> None:
    seen = set()
    for result in read_archive(io.BytesIO(data), "fuzz.warc.gz", _CONFIG):
        if isinstance(result, Capture):
            assert isinstance(result.content, str)
        else:
            assert isinstance(result, Rejection) and result.reason is not None, result
        key = result.id
        assert not key or key not in seen, f"two results for record {key}"
        seen.add(key)


def make_extract_check(sandbox: ExtractionSandbox):
    def check_extract(data: bytes) -> None:
        decoded = decode_html(data)
        html = decoded[0] if decoded else data.decode("utf-8", "replace")
        result = sandbox.extract(html, "https://fuzz.example/")
        assert isinstance(result, SandboxResult)
        assert isinstance(result.text, str)

    return check_extract


def prepare_seeds(folder: Path, target: str) -> None:
    """Seed `folder` from the bad-input corpus. For `warc`: its small files, and each one
    uncompressed (mutations of plain WARC text reach the record parser, mutations of
    deflate bytes rarely do). For `extract`: the HTML of every page they hold."""
    write_corpus(folder)
    for path in list(folder.iterdir()):
        data = path.read_bytes()
        path.unlink()
        if target == "extract":
            for n, result in enumerate(read_archive(io.BytesIO(data), path.name, IngestConfig())):
                if isinstance(result, Capture) and len(result.content) <= _MAX_SEED_BYTES:
                    (folder / f"{path.stem}-{n}.html").write_text(result.content)
            continue
        if len(data) > _MAX_SEED_BYTES:  # never inflate a bomb
            continue
        path.write_bytes(data)
        try:
            plain = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):  # the truncated and garbage cases
            continue
        if len(plain) <= _MAX_SEED_BYTES:
            path.with_suffix("").write_bytes(plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("warc", "extract"), default="warc")
    parser.add_argument("--corpus", type=Path, help="a folder libFuzzer grows (default: a temporary one, seeded)")
    args, fuzzer_args = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="gristmill-fuzz-") as tmp:
        corpus = args.corpus or Path(tmp)
        prepare_seeds(corpus, args.target)
        if args.target == "warc":
            check = check_warc
        else:
            sandbox = ExtractionSandbox(ExtractConfig(timeout_s=2.0))
            sandbox.start()
            check = make_extract_check(sandbox)
        atheris.Setup([sys.argv[0], *fuzzer_args, str(corpus)], check)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
