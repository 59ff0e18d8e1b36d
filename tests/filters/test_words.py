import pytest

from filters.words import STOP_WORDS, count_stop_words, split_words

# the largest languages of the web by Common Crawl share, and then some
WEB_LANGUAGES = {
    "en",
    "ru",
    "de",
    "zh",
    "ja",
    "es",
    "fr",
    "it",
    "pt",
    "pl",
    "nl",
    "vi",
    "tr",
    "id",
    "fa",
    "ar",
    "ko",
    "cs",
    "sv",
    "th",
}


def test_space_separated_text_splits_on_whitespace_with_punctuation_attached():
    assert split_words("The end.  Really?\nYes —\tfine") == ["The", "end.", "Really?", "Yes", "—", "fine"]
    assert split_words("") == [] and split_words(" \n ") == []


def test_scripts_without_spaces_split_into_characters():
    assert split_words("我们今天讨论。") == ["我", "们", "今", "天", "讨", "论", "。"]
    assert split_words("東京タワーは333 meters tall") == ["東", "京", "タ", "ワ", "ー", "は", "333", "meters", "tall"]
    # a Thai base character keeps its vowel and tone marks: ที่ is one token
    assert split_words("ที่นี่ ดี") == ["ที่", "นี่", "ดี"]
    # Korean is written with spaces
    assert split_words("한국어 문장입니다") == ["한국어", "문장입니다"]


def test_stop_words_cover_the_largest_web_languages():
    assert WEB_LANGUAGES <= set(STOP_WORDS)
    assert STOP_WORDS["en"] == {"the", "be", "to", "of", "and", "that", "have", "with"}  # Gopher's list
    for lang, words in STOP_WORDS.items():
        assert 8 <= len(words) <= 12 and all(w == w.lower() for w in words), lang


@pytest.mark.parametrize(
    "text, lang, count",
    [
        ("The cat and THE dog, with the hat.", "en", 5),
        ("There, then, other and thereby", "en", 1),  # whole words only
        ("the", "en", 1),
        ("", "en", 0),
        ("Der Hund und die Katze", "de", 3),
        ("我的书在桌子上，这是我的。", "zh", 7),  # substrings: 我 ×2, 的 ×2, 在, 这, 是
        ("これは本です。", "ja", 2),  # は, で
        ("ที่บ้านของฉันและเธอ", "th", 3),
    ],
)
def test_count_stop_words(text, lang, count):
    assert count_stop_words(text, lang) == count


def test_languages_without_a_list_count_none():
    assert count_stop_words("some text", "xx") is None
    assert count_stop_words("some text", "") is None


def test_each_list_finds_two_stop_words_in_ten_sentences_of_its_language(shared_data):
    """Leipzig sentences (lingua-py): the Gopher rule (>= 2) keeps nearly every 10-sentence text."""
    folder = shared_data / "langid" / "lingua" / "sentences"
    for lang in sorted(STOP_WORDS):
        path = folder / f"{lang}.txt"
        if not path.exists():
            continue
        sentences = path.read_text(encoding="utf-8").splitlines()
        texts = ["\n".join(sentences[i : i + 10]) for i in range(0, len(sentences) - 9, 10)]
        passing = sum(count_stop_words(text, lang) >= 2 for text in texts) / len(texts)
        assert passing >= (0.9 if lang == "ko" else 0.99), (lang, passing)
