"""`gristmill tokenizer train` and `gristmill tokenize`: from the curated corpus to token shards.

    gristmill tokenizer train MANIFEST --vocab-size V --out DIR [--sample-documents N] [--seed S]
    gristmill tokenize MANIFEST --tokenizer DIR --out DIR [--workers N] [--overwrite]

MANIFEST is a pipeline output's manifest.json (or its folder), local, s3:// or gs://;
`--s3-endpoint-url` points both commands at an S3-compatible server. `tokenize` writes
DIR/tokens_manifest.json, the training launcher's input (format: trainer/token_shards.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from gristmill import __version__


def add_parser(commands) -> None:
    tokenizer = commands.add_parser("tokenizer", help="train the byte-level BPE tokenizer")
    subcommands = tokenizer.add_subparsers(dest="tokenizer_command", required=True)
    train = subcommands.add_parser("train", help="train on a sample of a manifest's documents")
    train.add_argument(
        "manifest", metavar="MANIFEST", help="manifest.json or the pipeline output folder (local, s3://, gs://)"
    )
    train.add_argument("--out", required=True, help="folder for tokenizer.json and tokenizer_meta.json")
    train.add_argument(
        "--vocab-size", type=int, default=32768, help="vocabulary size with bytes and end-of-text (default: 32768)"
    )
    train.add_argument(
        "--sample-documents", type=int, default=20000, help="documents to train on, drawn uniformly (default: 20000)"
    )
    train.add_argument("--seed", type=int, default=0, help="which documents are drawn (default: 0)")
    train.add_argument("--s3-endpoint-url", help="S3-compatible endpoint for s3:// inputs")
    train.set_defaults(handler=_train)

    tokenize = commands.add_parser("tokenize", help="documents to packed token shards and tokens_manifest.json")
    tokenize.add_argument(
        "manifest", metavar="MANIFEST", help="manifest.json or the pipeline output folder (local, s3://, gs://)"
    )
    tokenize.add_argument("--tokenizer", required=True, help="folder written by `gristmill tokenizer train`")
    tokenize.add_argument("--out", required=True, help="local folder for the token shards")
    tokenize.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel processes (default: CPU count)"
    )
    tokenize.add_argument(
        "--batch-rows", type=int, default=256, help="documents encoded at a time per worker (default: 256)"
    )
    tokenize.add_argument("--overwrite", action="store_true", help="replace an earlier tokenize output in --out")
    tokenize.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    tokenize.add_argument("--s3-endpoint-url", help="S3-compatible endpoint for s3:// inputs")
    tokenize.set_defaults(handler=_tokenize)


def _train(args: argparse.Namespace) -> int:
    from pipeline.core.manifest import ManifestError
    from trainer.corpus import Corpus, Storage
    from trainer.tokenizer import TokenizerConfig, TokenizerError, train_tokenizer

    try:
        config = TokenizerConfig(vocab_size=args.vocab_size, sample_documents=args.sample_documents, seed=args.seed)
        corpus = Corpus.open(args.manifest, Storage(s3_endpoint_url=args.s3_endpoint_url))
        tokenizer = train_tokenizer(corpus, args.out, config)
    except (ManifestError, TokenizerError) as err:
        print(f"gristmill tokenizer train: {err}", file=sys.stderr)
        return 2
    meta = tokenizer.meta
    print(
        f"tokenizer: {args.out} (vocab {meta['vocab_size']:,}, end-of-text id {meta['eot_id']}, "
        f"trained on {meta['sample']['documents']:,} documents of {corpus.uri})"
    )
    return 0


def _tokenize(args: argparse.Namespace) -> int:
    from pipeline.core.manifest import ManifestError
    from trainer.corpus import Corpus, Storage
    from trainer.tokenize import (
        ProgressLine,
        TokenizeConfig,
        TokenizeError,
        tokenize_corpus,
    )
    from trainer.tokenizer import TokenizerError

    try:
        config = TokenizeConfig(workers=args.workers, batch_rows=args.batch_rows, overwrite=args.overwrite)
        corpus = Corpus.open(args.manifest, Storage(s3_endpoint_url=args.s3_endpoint_url))
        manifest = tokenize_corpus(
            corpus,
            args.tokenizer,
            args.out,
            config,
            version=__version__,
            progress=None if args.no_progress else ProgressLine(),
        )
    except (ManifestError, TokenizerError, TokenizeError) as err:
        print(f"gristmill tokenize: {err}", file=sys.stderr)
        return 2
    totals = manifest["totals"]
    print(
        f"tokens: {totals['tokens']:,} ({manifest['dtype']}) from {totals['documents']:,} documents "
        f"in {totals['files']} files; "
        f"{args.out}/tokens_manifest.json"
    )
    return 0
