"""Token shards: index consistency, documents decode back to their Parquet text, dtype choice, manifest, CLI, S3."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there
from tiny_corpus import parquet_texts, write_corpus

from gristmill.cli import main
from trainer.corpus import Corpus, Storage, mixture_phases
from trainer.token_shards import (
    TOKENS_MANIFEST,
    TokensManifestError,
    open_token_folder,
    token_dtype,
)
from trainer.tokenize import TokenizeConfig, TokenizeError, tokenize_corpus
from trainer.tokenizer import (
    META_FILE,
    TokenizerConfig,
    load_tokenizer,
    train_tokenizer,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_data):
    """(corpus folder, tokenizer folder, token folder): the tiny corpus tokenized in-process."""
    root = tmp_path_factory.mktemp("tokenize")
    corpus = Corpus.open(str(write_corpus(root / "corpus")))
    train_tokenizer(corpus, str(root / "tok"), TokenizerConfig(vocab_size=600, sample_documents=60))
    tokenize_corpus(
        corpus, str(root / "tok"), str(root / "tokens"), TokenizeConfig(workers=1, batch_rows=7), version="test"
    )
    return root / "corpus", root / "tok", root / "tokens"


def test_index_matches_tokens_and_documents_decode_to_their_text(built):
    corpus_dir, tok_dir, tokens_dir = built
    tokenizer = load_tokenizer(str(tok_dir))
    folder = open_token_folder(str(tokens_dir))
    manifest = folder.manifest
    assert manifest["dtype"] == "uint16" and folder.eot_id == 0
    total_documents = total_tokens = 0
    for name, domain in folder.domains.items():
        assert domain["tokens"] == sum(e["tokens"] for e in domain["files"])
        for entry in domain["files"]:
            tokens, index = folder.tokens(entry), folder.index(entry)
            texts = parquet_texts(corpus_dir, entry["source"])
            assert len(index) == entry["documents"] + 1 == len(texts) + 1
            assert index[0] == 0 and index[-1] == entry["tokens"] == len(tokens)
            assert np.all(np.diff(index) >= 1)
            # every document ends with end-of-text, and it appears nowhere else
            assert np.array_equal(np.flatnonzero(tokens == folder.eot_id), index[1:] - 1)
            for i, text in enumerate(texts):
                assert tokenizer.decode(tokens[index[i] : index[i + 1] - 1]) == text, (name, entry["path"], i)
            total_documents += entry["documents"]
            total_tokens += entry["tokens"]
    assert manifest["totals"] == {"documents": total_documents, "tokens": total_tokens, "files": 6}


def test_manifest_carries_source_hash_tokenizer_and_phases(built):
    corpus_dir, tok_dir, tokens_dir = built
    manifest = json.loads((tokens_dir / TOKENS_MANIFEST).read_text())
    source = (corpus_dir / "manifest.json").read_bytes()
    assert manifest["source_manifest"]["sha256"] == hashlib.sha256(source).hexdigest()
    assert manifest["tokenizer"]["sha256"] == json.loads((tok_dir / META_FILE).read_text())["tokenizer_sha256"]
    assert manifest["phases"] == [p.to_json() for p in mixture_phases(json.loads(source))]
    assert [p["name"] for p in manifest["phases"]] == ["main"]
    assert set(manifest["phases"][0]["weights"]) == {"code", "forum", "news"}


def test_mixture_phases_reads_v1_and_v2():
    v1 = {
        "format_version": 1,
        "domains": {"a": {"target_weight": 0.25, "epochs": 1.0}, "b": {"target_weight": 0.75, "epochs": 2.0}},
    }
    (main_phase,) = mixture_phases(v1)
    assert (main_phase.name, main_phase.token_budget, main_phase.weights, main_phase.epochs) == (
        "main",
        None,
        {"a": 0.25, "b": 0.75},
        {"a": 1.0, "b": 2.0},
    )
    v2 = {
        "format_version": 2,
        "domains": {},
        "mixture": {
            "phases": [
                {
                    "name": "main",
                    "token_budget": 900,
                    "domains": {"a": {"weight": 0.5, "epochs": 1.0}, "b": {"weight": 0.5, "epochs": 0.5}},
                },
                {
                    "name": "anneal",
                    "token_budget": 100,
                    "domains": {"a": {"weight": 1.0, "epochs": 1.2}, "b": {"weight": 0.0, "epochs": 0.5}},
                },
            ]
        },
    }
    phases = mixture_phases(v2)
    assert [(p.name, p.token_budget, p.weights["a"]) for p in phases] == [("main", 900, 0.5), ("anneal", 100, 1.0)]


def test_output_does_not_depend_on_workers(built, tmp_path):
    corpus_dir, tok_dir, tokens_dir = built
    corpus = Corpus.open(str(corpus_dir))
    tokenize_corpus(
        corpus, str(tok_dir), str(tmp_path / "out"), TokenizeConfig(workers=2, batch_rows=64), version="test"
    )
    for path in tokens_dir.rglob("*.bin"):
        assert (tmp_path / "out" / path.relative_to(tokens_dir)).read_bytes() == path.read_bytes()


def test_dtype_is_uint16_while_ids_fit_else_uint32(tmp_path, built):
    assert token_dtype(65536) == np.uint16 and token_dtype(65537) == np.uint32
    corpus_dir, tok_dir, _ = built
    # the same tokenizer padded past 65,536 entries with tokens that never match
    big = load_tokenizer(str(tok_dir)).tokenizer
    big.add_tokens([f"\x00unused{i}\x00" for i in range(65536)])
    meta = json.loads((tok_dir / META_FILE).read_text())
    meta.update(vocab_size=big.get_vocab_size(), tokenizer_sha256="padded")
    (tmp_path / "big").mkdir()
    big.save(str(tmp_path / "big" / "tokenizer.json"))
    (tmp_path / "big" / META_FILE).write_text(json.dumps(meta))
    corpus = Corpus.open(str(corpus_dir))
    small_corpus = Corpus(
        uri=corpus.uri, manifest={**corpus.manifest, "shards": corpus.shards[:1]}, sha256="x", storage=Storage()
    )
    manifest = tokenize_corpus(
        small_corpus, str(tmp_path / "big"), str(tmp_path / "out"), TokenizeConfig(), version="test"
    )
    assert manifest["dtype"] == "uint32"
    folder = open_token_folder(str(tmp_path / "out"))
    (entry,) = [e for d in folder.domains.values() for e in d["files"]]
    small = open_token_folder(str(built[2]))
    assert np.array_equal(folder.tokens(entry), small.tokens(small.domains["code"]["files"][0]))


def test_open_token_folder_checks_file_sizes(built, tmp_path):
    import shutil

    copy = tmp_path / "tokens"
    shutil.copytree(built[2], copy)
    with open(copy / "news" / "tokens-00001.bin", "ab") as f:
        f.write(b"\x00\x00")
    with pytest.raises(TokensManifestError, match="news/tokens-00001.bin has"):
        open_token_folder(str(copy))
    with pytest.raises(TokensManifestError, match="no tokens_manifest.json"):
        open_token_folder(str(tmp_path))


def test_cli_round_trip_and_bad_inputs(built, tmp_path, capsys):
    corpus_dir = built[0]
    assert (
        main(
            [
                "tokenizer",
                "train",
                str(corpus_dir),
                "--vocab-size",
                "400",
                "--sample-documents",
                "40",
                "--out",
                str(tmp_path / "tok"),
            ]
        )
        == 0
    )
    args = [
        "tokenize",
        str(corpus_dir / "manifest.json"),
        "--tokenizer",
        str(tmp_path / "tok"),
        "--out",
        str(tmp_path / "out"),
        "--workers",
        "1",
    ]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "6/6 shards" in out.err and "tokens_manifest.json" in out.out
    assert open_token_folder(str(tmp_path / "out")).manifest["tokenizer"]["vocab_size"] == 400
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--no-progress"]) == 0
    assert (
        main(
            ["tokenize", str(tmp_path / "missing"), "--tokenizer", str(tmp_path / "tok"), "--out", str(tmp_path / "o2")]
        )
        == 2
    )
    assert "cannot read manifest" in capsys.readouterr().err
    assert main(["tokenize", str(corpus_dir), "--tokenizer", str(corpus_dir), "--out", str(tmp_path / "o3")]) == 2
    assert "no tokenizer_meta.json" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"format": "gristmill-manifest", "format_version": 2}')
    assert main(["tokenizer", "train", str(tmp_path / "bad.json"), "--out", str(tmp_path / "t2")]) == 2
    assert "gristmill_version: missing" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    assert (
        main(["tokenize", str(corpus_dir), "--tokenizer", str(tmp_path / "tok"), "--out", str(tmp_path / "busy")]) == 2
    )
    assert "not empty" in capsys.readouterr().err


def test_missing_shard_is_a_clear_error(built, tmp_path):
    import shutil

    corpus_dir, tok_dir, _ = built
    shutil.copytree(corpus_dir, tmp_path / "corpus")
    (tmp_path / "corpus" / "data" / "domain=forum" / "part-00001-of-00002.parquet").unlink()
    with pytest.raises(TokenizeError, match="part-00001-of-00002.parquet"):
        tokenize_corpus(
            Corpus.open(str(tmp_path / "corpus")), str(tok_dir), str(tmp_path / "out"), TokenizeConfig(), version="test"
        )
    assert not (tmp_path / "out" / TOKENS_MANIFEST).exists()
    assert not list((tmp_path / "out").rglob("*.tmp-*"))


def test_reads_the_corpus_from_s3(built, tmp_path, monkeypatch):
    from s3_server import SeaweedS3, SeaweedUnavailable

    corpus_dir, tok_dir, tokens_dir = built
    try:
        server = SeaweedS3(tmp_path / "seaweedfs").start()
    except SeaweedUnavailable as err:
        skip_or_fail(str(err))
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        client = server.client()
        client.create_bucket(Bucket="runs")
        for path in corpus_dir.rglob("*"):
            if path.is_file():
                client.upload_file(str(path), "runs", f"run1/{path.relative_to(corpus_dir)}")
        assert (
            main(
                [
                    "tokenize",
                    "s3://runs/run1/manifest.json",
                    "--tokenizer",
                    str(tok_dir),
                    "--out",
                    str(tmp_path / "out"),
                    "--workers",
                    "1",
                    "--no-progress",
                    "--s3-endpoint-url",
                    server.endpoint_url,
                ]
            )
            == 0
        )
    finally:
        server.stop()
    manifest = json.loads((tmp_path / "out" / TOKENS_MANIFEST).read_text())
    assert manifest["source_manifest"]["uri"] == "s3://runs/run1/manifest.json"
    assert manifest["domains"] == json.loads((tokens_dir / TOKENS_MANIFEST).read_text())["domains"]
    for path in tokens_dir.rglob("*.bin"):
        assert (tmp_path / "out" / path.relative_to(tokens_dir)).read_bytes() == path.read_bytes()
