"""Byte-level BPE: exact round-trip on real multilingual text and arbitrary Unicode, end-of-text handling, sampling."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_corpus import sentences, write_corpus

from trainer.corpus import Corpus
from trainer.tokenizer import (
    EOT_TOKEN,
    META_FILE,
    LoadedTokenizer,
    TokenizerConfig,
    TokenizerError,
    load_tokenizer,
    sample_rows,
    train_on_texts,
    train_tokenizer,
)

# trained on 5 languages, checked on every language lingua has sentences for (75, most of them unseen)
TRAIN_LANGUAGES = ("en", "de", "ru", "zh", "ar")


@pytest.fixture(scope="module")
def lingua(shared_data):
    folder = shared_data / "langid" / "lingua" / "sentences"
    return {path.stem: path.read_text(encoding="utf-8").splitlines()[:40] for path in sorted(folder.glob("*.txt"))}


@pytest.fixture(scope="module")
def tokenizer(lingua) -> LoadedTokenizer:
    texts = [line for language in TRAIN_LANGUAGES for line in lingua[language]]
    trained = train_on_texts(texts, TokenizerConfig(vocab_size=800, min_frequency=2))
    trained.encode_special_tokens = True  # as load_tokenizer sets it
    return LoadedTokenizer(trained, {"eot_id": trained.token_to_id(EOT_TOKEN), "vocab_size": trained.get_vocab_size()})


def test_round_trip_on_every_lingua_language(tokenizer, lingua):
    assert len(lingua) > 50
    for language, lines in lingua.items():
        text = "\n".join(lines)
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text, language
        assert tokenizer.eot_id not in ids


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_round_trip_on_arbitrary_unicode(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_batch_encoding_matches_single():
    trained = train_on_texts(["hello world, hello there"] * 5, TokenizerConfig(vocab_size=300))
    tok = LoadedTokenizer(trained, {})
    texts = ["hello", "", " world\n\t", "naïve café 日本語 🎉"]
    assert tok.encode_batch(texts) == [tok.encode(t) for t in texts]


def test_end_of_text_is_id_0_and_literal_marker_is_plain_text(tokenizer):
    assert tokenizer.eot_id == 0
    text = f"one document{EOT_TOKEN}not a separator"
    ids = tokenizer.encode(text)
    assert 0 not in ids
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode([*tokenizer.encode("a"), 0]) == "a" + EOT_TOKEN


def test_vocab_size_is_honoured_and_training_is_deterministic(lingua):
    texts = [line for language in TRAIN_LANGUAGES for line in lingua[language]]
    first = train_on_texts(texts, TokenizerConfig(vocab_size=600))
    assert first.get_vocab_size() == 600
    assert train_on_texts(texts, TokenizerConfig(vocab_size=600)).to_str() == first.to_str()


def test_sample_is_uniform_over_shards_and_seeded(tmp_path, shared_data):
    corpus = Corpus.open(str(write_corpus(tmp_path)))
    sample = sample_rows(corpus, 100, seed=1)
    assert sum(len(rows) for rows in sample.values()) == 100
    assert set(sample) == set(range(len(corpus.shards)))  # 100 of 135 documents reach every shard
    for shard, rows in sample.items():
        assert rows == sorted(set(rows)) and rows[-1] < corpus.shards[shard]["rows"]
    assert sample_rows(corpus, 100, seed=1) == sample != sample_rows(corpus, 100, seed=2)
    assert sum(len(r) for r in sample_rows(corpus, 10**6, seed=0).values()) == corpus.manifest["totals"]["documents"]


def test_train_tokenizer_writes_a_loadable_folder(tmp_path, shared_data):
    manifest = write_corpus(tmp_path / "corpus")
    corpus = Corpus.open(str(manifest))
    trained = train_tokenizer(
        corpus, str(tmp_path / "tok"), TokenizerConfig(vocab_size=500, sample_documents=50, seed=3)
    )
    meta = json.loads((tmp_path / "tok" / META_FILE).read_text())
    assert meta["vocab_size"] == 500 and meta["eot_id"] == 0 and meta["sample"]["documents"] == 50
    assert meta["source_manifest"]["sha256"] == corpus.sha256
    again = load_tokenizer(str(tmp_path / "tok"))
    text = sentences("fr", 3)[2]
    assert again.encode(text) == trained.encode(text) and again.decode(again.encode(text)) == text


def test_load_tokenizer_names_the_problem(tmp_path):
    with pytest.raises(TokenizerError, match="no tokenizer_meta.json"):
        load_tokenizer(str(tmp_path))
    trained = train_on_texts(["abc abd"] * 3, TokenizerConfig(vocab_size=300))
    (tmp_path / "tokenizer.json").write_text(trained.to_str())
    (tmp_path / META_FILE).write_text(
        json.dumps({"format": "gristmill-tokenizer", "format_version": 1, "eot_id": 0, "vocab_size": 9})
    )
    with pytest.raises(TokenizerError, match="does not describe"):
        load_tokenizer(str(tmp_path))
    with pytest.raises(TokenizerError, match="vocab_size"):
        TokenizerConfig(vocab_size=100)
