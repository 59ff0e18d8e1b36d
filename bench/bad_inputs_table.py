"""The bad-input corpus (pipeline/fixtures/bad_inputs.py), one case per process: the outcome table.

    .venv/bin/python bench/bad_inputs_table.py        # ~1 min

Each case's WARC goes through the pipeline (ingest, extraction with a 5 s
limit, language ID, domain tagging, writing; safety, dedup and quality off, as
in the end-to-end test: the cases' good pages are short synthetic pages that
those stages would rightly drop) in a fresh Python process, so the peak RSS is that case's alone (the process,
and the largest child it waited for: the extraction sandbox). Prints, per case: records, kept,
drops by reason, whether the funnel is conserved, whether every good page was
kept and the drops are the ones the case names, dead letters, wall and peak RSS.
The end-to-end test (tests/e2e/test_bad_input_corpus.py) asserts the same
outcomes over one run of all cases; this prints them for the closing note.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.fixtures.bad_inputs import write_corpus

REPO = Path(__file__).resolve().parent.parent
_CHILD = """
import json, resource, sys
from gristmill import __version__
from pipeline.config import config_from_dict
from pipeline.runner import run_pipeline
stages_off = {"safety": {"pii": {"enabled": False}, "toxicity": {"enabled": False}},
              "dedup": {"url": False, "exact": False, "near": False}, "quality": {"enabled": False}}
funnel = run_pipeline([sys.argv[1]], sys.argv[2], config_from_dict({"extract": {"timeout_s": 5.0}, **stages_off}),
                      ["--direct_running_mode=in_memory"], version=__version__, progress=False)
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) * 1024
print(json.dumps({"funnel": funnel, "peak_rss": peak}))
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gristmill-bad-inputs-", dir=REPO / "build") as tmp:
        folder = Path(tmp)
        cases = write_corpus(folder / "warc")
        print(
            "| case | what | file MB | records | kept | dropped (reason: n) | as expected | conserved "
            "| dead letters | wall s | peak RSS MiB |"
        )
        print("|---|---|---:|---:|---:|---|---|---|---:|---:|---:|")
        for case in cases:
            warc, out = folder / "warc" / f"{case.name}.warc.gz", folder / f"out-{case.name}"
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(warc), str(out)], cwd=REPO, capture_output=True, text=True
            )
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                print(
                    f"| {case.name} | {case.description} | | {case.records} | CRASHED (exit {done.returncode}) "
                    f"| | no | | | {seconds:.1f} | |"
                )
                print(done.stderr[-2000:], file=sys.stderr)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            funnel = result["funnel"]
            kept_urls = (
                set(pq.read_table(out / "data", columns=["url"]).column("url").to_pylist())
                if (out / "data").exists()
                else set()
            )
            expected = funnel["dropped_by_reason"] == dict(case.drops) and kept_urls == set(case.kept)
            dead = sum(1 for path in out.glob("dead_letter/*.jsonl") for _ in path.open())
            drops = ", ".join(f"{reason}: {n}" for reason, n in sorted(funnel["dropped_by_reason"].items()))
            print(
                f"| {case.name} | {case.description} | {warc.stat().st_size / 1e6:.2f} "
                f"| {funnel['records_read']} | {funnel['kept']} "
                f"| {drops} | {'yes' if expected else 'NO'} | {'yes' if funnel['conserved'] else 'NO'} | {dead} "
                f"| {seconds:.1f} | {result['peak_rss'] / 2**20:.0f} |"
            )
    print("\ncommand: `.venv/bin/python bench/bad_inputs_table.py`")


if __name__ == "__main__":
    main()
