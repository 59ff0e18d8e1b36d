"""gristmill's own PII recognizers: phone and payment-card numbers in free formats.

Presidio's shipped `PhoneRecognizer` runs `phonenumbers.PhoneNumberMatcher` over the
whole text once per region: it is the slowest recognizer, it misses numbers in
formats those regions don't use ("60-56-85-91", "+46 (0)8 928 571 38",
"467 3395") and on German web text it flags dates and years ("02.12.2022",
"1681"). Its `CreditCardRecognizer` only knows 13-17 digits in 4-4-4-4 shapes
and misses 12-digit Maestro and 19-digit Visa numbers.

Both recognizers here scan once with one compiled regex for number-shaped
candidates and decide in Python, on the few candidates there are:

- a phone number is a run of digit groups (7-15 digits, ITU E.164) that is not a
  date, year, thousands-separated amount, ISBN or IP address, and either has a
  phone shape that rarely means anything else (a `+` country code that
  `phonenumbers` accepts as a possible number, a parenthesised area code, a
  trunk `0` prefix, the North American 3-3-4, four or five pairs) or has a
  phone word nearby ("tel", "fax", "mobile", "call", "Telefon", ...).
- a card number is 12-19 digits (ISO/IEC 7812) in groups of 3-6, whose prefix
  belongs to a card network issuing that length and which passes the Luhn
  checksum; 12 and 13 digits (Maestro, old Visa, but also EAN-13 barcodes) need
  a card word nearby.

They subclass presidio's `LocalRecognizer`, so they also plug into an
`AnalyzerEngine` registry. Nothing here logs or keeps matched text.
"""

from __future__ import annotations

import ipaddress
import re

import phonenumbers
import regex
import tldextract
from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer

# What presidio's RecognizerRegistry gives every pattern recognizer it holds.
PRESIDIO_REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

# How far around a candidate a context word may be: the label before a number
# ("Tel.: ", "Phone:\n") or a trailing one ("... 781 1704 office").
_CONTEXT_BEFORE = 40
_CONTEXT_AFTER = 16

# ITU-T E.164: at most 15 digits; fewer than 7 is an extension or a short code.
_MIN_PHONE_DIGITS = 7
_MAX_PHONE_DIGITS = 15

_SPACE = r"[ \t\u00a0\u202f]"  # space, tab, no-break and narrow no-break space
# Compiled so that the regex engine can skip to the next "+", "(" or digit: the
# pattern starts with that character, and the checks on what precedes it come after.
_PHONE_CANDIDATE = re.compile(
    rf"""
    [+(\d](?<![\w+@/-].)(?<!\d[.,:].)      # starts a token: not inside a word, number, email, URL, time
    (?=(?:[^\d\n]{{0,4}}\d){{{_MIN_PHONE_DIGITS - 1}}})   # cheap pre-check: 7 digits close by
    (?:(?<=\+){_SPACE}?(?:\(\+?\d{{1,5}}\)|\d{{1,15}})   # "+" country code
      |(?<=\()\+?\d{{1,5}}\)                 # "(" area code ")"
      |(?<=\d)\d{{0,14}})                    # or a first group of digits
    (?:
        (?:{_SPACE}?[-./–]{_SPACE}?|{_SPACE}|(?<=\)))   # one separator (none needed after ")")
        (?:\(0\){_SPACE}?)?                 # trunk prefix written "+41 (0)96"
        (?:\(\d{{1,5}}\)|\d{{1,15}})
    ){{0,8}}
    (?P<ext>{_SPACE}?(?:[xX]|[eE][xX][tT]\.?|\#){_SPACE}?\d{{1,6}})?
    (?![\w@]|[.,]\d)                        # not followed by more word or decimals
    """,
    re.VERBOSE,
)

# Words that make a number a phone number, in English and the main languages of
# the crawl, as whole words ("Tel." but not "Teller", "mobile" but not
# "Mobilität"). Before the number: a label or a verb; after it: only a label
# ("781 1704 office"), as "our office is at 6556 106 Rue ..." is an address.
_PHONE_WORDS_BEFORE = re.compile(
    r"\b(?:tel(?:e?fon\w*|ephon\w*|éfono|efono|efone)?|tél(?:éphone)?|phone\w*|fon|fax|call(?:s|ing)?|"
    r"mobile?|mobiltelefon|mobilfunk|m[óo]vil|cell(?:phone|ular|ulare)?|handy|whatsapp|sms|text\s+(?:me|us)|"
    r"hotline|desk|contact\w*|kontakt\w*|ruf(?:nummer)?|anruf\w*|dial\w*|reach\s+(?:me|us)|celular|"
    r"telemóvel|portable|durchwahl|zentrale)\b",
    re.IGNORECASE,
)
_PHONE_WORDS_AFTER = re.compile(r"\W{0,3}(?:tel|phone|fax|mobile|cell|office|home|work|desk)\b", re.IGNORECASE)
# Words that say a number is something else (a book, paper or article number).
_NOT_PHONE_WORDS = re.compile(r"\b(?:isbn|issn|doi|pmid|pmc|arxiv|ean|gtin|asin|sku|art\.?-?nr)", re.IGNORECASE)

_DATE_DMY = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:\d{4}|\d{2}(?!\d))")
_DATE_MDY = re.compile(r"(?:0?[1-9]|1[0-2])[./-](?:0?[1-9]|[12]\d|3[01])[./-](?:\d{4}|\d{2}(?!\d))")
_DATE_YMD = re.compile(r"(?:1[6-9]|20)\d\d[./-](?:0?[1-9]|1[0-2])[./-](?:0?[1-9]|[12]\d|3[01])")
_YEAR = re.compile(r"(?:1[0-9]|20)\d\d")
_NANP = re.compile(r"(?:(?:\+?1|001)[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}")
_PAIRS = re.compile(r"\d\d(?P<sep>[-. ])\d\d(?:(?P=sep)\d\d){2,3}")
_NUMBER_BEFORE = re.compile(r"\d[ \t]$")
_NUMBER_AFTER = re.compile(r"[ \t]\d")
_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:[. \u00a0\u202f]\d{3})+")
_TIME_RANGE = re.compile(r"\d{1,2}[.:]\d\d\s?[-–]\s?\d{1,2}[.:]\d\d")  # opening hours "9.00-16.00"
_SSN_SHAPE = re.compile(r"\d{3}(?P<sep>[- .])\d\d(?P=sep)\d{4}")  # the US SSN recognizer's


def _result(recognizer: EntityRecognizer, start: int, end: int, score: float) -> RecognizerResult:
    return RecognizerResult(
        recognizer.supported_entities[0],
        start,
        end,
        score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )


def _in_number_run(text: str, start: int, end: int) -> bool:
    """The candidate is one stretch of a longer run of numbers (a calendar, a table)."""
    return (
        _NUMBER_BEFORE.search(text, max(0, start - 2), start) is not None or _NUMBER_AFTER.match(text, end) is not None
    )


def _word_before(text: str, start: int, words: re.Pattern) -> bool:
    return words.search(text, max(0, start - _CONTEXT_BEFORE), start) is not None


def is_phone_shaped(number: str, plus: bool) -> bool | None:
    """True: a shape that is a phone number on its own; False: never one (a date,
    a year range, an amount, an IP address); None: only with a phone word near."""
    number = number.replace("(0)", "")  # "+41 (0)96 ...": the trunk 0 is not dialled from abroad
    groups = re.findall(r"\d+", number)
    digits = "".join(groups)
    if not _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        return False
    if plus:
        return _is_possible_international(digits)
    if number.startswith("00") and len(groups) > 1:
        return _is_possible_international(digits[2:])
    if _DATE_DMY.match(number) or _DATE_MDY.match(number) or _DATE_YMD.match(number) or _TIME_RANGE.match(number):
        return False
    if all(len(g) == 4 and _YEAR.fullmatch(g) for g in groups):
        return False  # "2019 2020", "1990-2000"
    if len(groups) == 4 and all(len(g) <= 3 and int(g) <= 255 for g in groups) and number.count(".") == 3:
        return False  # an IPv4 address: the IP recognizer's
    if len(digits) == 13 and digits.startswith(("978", "979")):
        return False  # ISBN-13 / EAN-13 of a book
    if _NANP.fullmatch(number) or _PAIRS.fullmatch(number) or re.match(r"\(\d{2,5}\)", number):
        return True
    if _THOUSANDS.fullmatch(number):
        return None  # "12 345 678", "1.234.567": an amount unless a phone word says otherwise
    if _SSN_SHAPE.fullmatch(number):
        return None  # "054-28-6917" is a US SSN unless a phone word says otherwise
    if digits[0] == "0" and len(groups) > 1 and len(digits) >= 9 and "." not in number:
        return True  # national format with trunk prefix: "0490 75 40 81", "030 / 1234567"
    return None


def _is_possible_international(digits: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False


class PhoneNumberRecognizer(LocalRecognizer):
    """Phone numbers in international and free national formats, any language."""

    SHAPE_SCORE = 0.6  # a phone shape alone
    CONTEXT_SCORE = 0.8  # a phone word nearby

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entities=["PHONE_NUMBER"], supported_language=supported_language, name="GristmillPhoneRecognizer"
        )

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        for match in _PHONE_CANDIDATE.finditer(text):
            start, end = match.span()
            number = text[start : match.start("ext")] if match.group("ext") else match.group()
            shaped = is_phone_shaped(number.lstrip("+ \t\u00a0\u202f"), plus=number[0] == "+")
            if shaped is False or _in_number_run(text, start, end) or _word_before(text, start, _NOT_PHONE_WORDS):
                continue
            near_word = (
                _word_before(text, start, _PHONE_WORDS_BEFORE)
                or _PHONE_WORDS_AFTER.match(text, end, min(len(text), end + _CONTEXT_AFTER)) is not None
            )
            if shaped or near_word:
                score = self.CONTEXT_SCORE if near_word else self.SHAPE_SCORE
                results.append(_result(self, start, end, score))
        return results


# Card networks: (prefix range, lengths), from the networks' published IIN tables
# (ISO/IEC 7812 issuer identification numbers).
_CARD_NETWORKS: tuple[tuple[int, int, frozenset[int]], ...] = tuple(
    (low, high, frozenset(lengths))
    for low, high, lengths in (
        (4, 4, (13, 16, 19)),  # Visa
        (51, 55, (16,)),
        (2221, 2720, (16,)),  # Mastercard
        (34, 34, (15,)),
        (37, 37, (15,)),  # American Express
        (300, 305, (14, 16, 19)),
        (36, 36, (14, 16, 19)),
        (38, 39, (14, 16, 19)),  # Diners Club
        (6011, 6011, (16, 19)),
        (644, 649, (16, 19)),
        (65, 65, (16, 19)),  # Discover
        (35, 35, (16, 19)),
        (1800, 1800, (15,)),
        (2131, 2131, (15,)),  # JCB (3528-3589; generators use all of 35)
        (50, 50, range(12, 20)),
        (56, 69, range(12, 20)),  # Maestro, UnionPay, RuPay
        (2200, 2204, (16, 17, 18, 19)),  # Mir
    )
)
_CARD_CANDIDATE = re.compile(  # starts with a digit, checks what precedes it after (see _PHONE_CANDIDATE)
    r"\d(?<![\w+.,/-]\d)(?:\d{11,18}|\d{2,5}(?P<sep>[ -])\d{3,6}(?:(?P=sep)\d{1,6}){1,3})(?![\w]|[.,]\d)"
)
_CARD_WORDS = re.compile(
    r"\b(?:card|carte|karte|tarjeta|cart[aã]o|carta|kaart|credit|kredit|cr[eé]dito|cc|visa|mastercard|amex|"
    r"american express|maestro|discover|jcb|diners|unionpay)",
    re.IGNORECASE,
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """A known network's prefix for this length, and a valid Luhn check digit."""
    n = len(digits)
    for low, high, lengths in _CARD_NETWORKS:
        width = len(str(low))
        if n in lengths and low <= int(digits[:width]) <= high:
            return luhn_ok(digits)
    return False


class CardNumberRecognizer(LocalRecognizer):
    """Payment card numbers, 12-19 digits, plain or grouped with spaces or dashes."""

    SCORE = 1.0  # checksum-validated, as presidio scores a validated card

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entities=["CREDIT_CARD"], supported_language=supported_language, name="GristmillCardRecognizer"
        )

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        for match in _CARD_CANDIDATE.finditer(text):
            digits = match.group().replace(" ", "").replace("-", "")
            if not 12 <= len(digits) <= 19 or not is_card_number(digits):
                continue
            start, end = match.span()
            if len(digits) <= 13 and not _word_before(text, start, _CARD_WORDS):
                continue  # 12-13 digits: EAN-13 barcodes and order numbers pass Luhn one time in ten
            results.append(_result(self, start, end, self.SCORE))
        return results


class OfflineEmailRecognizer(EmailRecognizer):
    """presidio's email recognizer, validating the domain against tldextract's bundled
    public-suffix snapshot: the module-level `tldextract.extract` it uses by default
    fetches the list over the network on first use (and logs tracebacks offline)."""

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_language=supported_language)
        self._tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        self._tld("example.com")  # reads the snapshot now (~0.2 s) rather than on the first email

    def validate_result(self, pattern_text: str) -> bool:
        return self._tld(pattern_text).fqdn != ""


class CaseInsensitiveIbanRecognizer(IbanRecognizer):
    """presidio's IBAN recognizer with the regex flags its registry would give it (it
    matches lower-case IBANs only inside an AnalyzerEngine), and never handed
    non-ASCII text: its validation logs the candidate at ERROR level when a
    character cannot be converted (e.g. the Kelvin sign matching "k" case-insensitively)."""

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_language=supported_language)
        self.global_regex_flags = PRESIDIO_REGEX_FLAGS

    def validate_result(self, pattern_text: str) -> bool | None:
        if not pattern_text.isascii():
            return False
        return super().validate_result(pattern_text)


class PublicIpRecognizer(IpRecognizer):
    """presidio's IP recognizer without addresses that name no host: "::", loopback."""

    def invalidate_result(self, pattern_text: str) -> bool | None:
        if super().invalidate_result(pattern_text):
            return True
        address = ipaddress.ip_interface(pattern_text).ip
        return address.is_unspecified or address.is_loopback


def strong_patterns_only(recognizer: EntityRecognizer, min_score: float) -> EntityRecognizer:
    """Keep the patterns presidio scores at least `min_score`: its "very weak" ones (0.05,
    0.1; e.g. any 9-digit number as a US SSN) are meant to count only next to context
    words, which the fast path does not look for."""
    recognizer.patterns = [p for p in recognizer.patterns if p.score >= min_score]
    return recognizer
