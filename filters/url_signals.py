"""What a URL's path and a page's declared section say about its topic and format.

News sites, magazines and shops file pages under named sections: `/sport/`,
`/politik/`, `/wirtschaft/...`, and declare the same in `article:section` or JSON-LD
`articleSection`. A section word is precise evidence of the topic in any of the
languages listed below; a few path words say the format (a legal notice, an about
page, a tag listing, a how-to) where taxonomy 1's URL rules (filters/domain_rules.yaml)
have no tag for it. Words are matched whole, never as substrings: the path
`/item/3342` is not "it", `/sportswear/` is not "sport".
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

# topic -> section and path words (lower case, accents folded), English, German, French,
# Spanish, Italian, Dutch, Portuguese. Ambiguous words are left out ("leben", "panorama",
# "world", "local", "mix"), and so are words that name a format ("blog", "news").
SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "politics": (
        "politics",
        "political",
        "politik",
        "politique",
        "politica",
        "politiek",
        "elections",
        "election",
        "wahl",
        "wahlen",
        "government",
        "regierung",
        "inland",
        "ausland",
        "geopolitics",
        "diplomacy",
        "military",
        "bundestag",
        "europawahl",
        "eleicoes",
        "elecciones",
        "elezioni",
        "verkiezingen",
    ),
    "law_crime": (
        "law",
        "legal",
        "recht",
        "justiz",
        "justice",
        "crime",
        "krimi",
        "kriminalitat",
        "polizei",
        "police",
        "courts",
        "gericht",
        "blaulicht",
        "faits-divers",
        "sucesos",
        "cronaca",
        "criminalite",
        "rechtsprechung",
    ),
    "business_finance": (
        "business",
        "wirtschaft",
        "economy",
        "economics",
        "economie",
        "economia",
        "finance",
        "finanzen",
        "finanz",
        "finances",
        "finanzas",
        "finanza",
        "financien",
        "money",
        "geld",
        "markets",
        "markte",
        "borse",
        "boerse",
        "karriere",
        "career",
        "careers",
        "jobs",
        "unternehmen",
        "companies",
        "startups",
        "startup",
        "immobilien",
        "realestate",
        "real-estate",
        "investing",
        "banking",
        "versicherung",
        "insurance",
        "mittelstand",
    ),
    "science": (
        "science",
        "sciences",
        "wissenschaft",
        "wissen",
        "research",
        "forschung",
        "environment",
        "umwelt",
        "klima",
        "climate",
        "space",
        "weltraum",
        "nature",
        "natur",
        "ciencia",
        "ciencias",
        "scienza",
        "scienze",
        "wetenschap",
        "ciencia-e-saude",
        "astronomy",
        "biology",
        "physics",
        "chemistry",
        "energie",
        "energy",
    ),
    "computing": (
        "tech",
        "technology",
        "technologie",
        "technik",
        "digital",
        "computer",
        "computers",
        "computing",
        "software",
        "programming",
        "developer",
        "developers",
        "internet",
        "netzwelt",
        "gadgets",
        "tecnologia",
        "high-tech",
        "informatique",
        "informatik",
        "it-news",
        "security",
        "datenschutz-it",
        "ki",
        "ai",
        "smartphones",
        "apps",
    ),
    "health": (
        "health",
        "gesundheit",
        "medicine",
        "medizin",
        "medical",
        "wellness",
        "ernahrung",
        "nutrition",
        "sante",
        "salud",
        "salute",
        "gezondheid",
        "saude",
        "krankheiten",
        "fitness",
    ),
    "education": (
        "education",
        "bildung",
        "schule",
        "school",
        "schools",
        "university",
        "universitat",
        "hochschule",
        "studium",
        "learning",
        "lernen",
        "education-nationale",
        "educacion",
        "educazione",
        "onderwijs",
        "educacao",
        "campus",
    ),
    "sports": (
        "sport",
        "sports",
        "fussball",
        "football",
        "soccer",
        "tennis",
        "basketball",
        "formel1",
        "formel-1",
        "motorsport",
        "deportes",
        "deporte",
        "calcio",
        "olympia",
        "olympics",
        "radsport",
        "handball",
        "eishockey",
        "golf",
        "nfl",
        "nba",
        "mlb",
        "nhl",
        "bundesliga",
        "esporte",
        "esportes",
        "voetbal",
    ),
    "entertainment": (
        "entertainment",
        "unterhaltung",
        "celebrity",
        "celebrities",
        "promis",
        "stars",
        "film",
        "films",
        "movies",
        "kino",
        "cinema",
        "tv",
        "fernsehen",
        "music",
        "musik",
        "musique",
        "musica",
        "games",
        "gaming",
        "spiele",
        "showbiz",
        "people",
        "streaming",
        "serien",
        "series",
        "television",
        "tele",
    ),
    "arts_culture": (
        "kultur",
        "culture",
        "cultura",
        "cultuur",
        "arts",
        "art",
        "kunst",
        "literature",
        "literatur",
        "books",
        "buecher",
        "bucher",
        "livres",
        "libros",
        "libri",
        "design",
        "architecture",
        "architektur",
        "photography",
        "fotografie",
        "feuilleton",
        "theater",
        "theatre",
        "museum",
        "museen",
    ),
    "history_religion": (
        "history",
        "geschichte",
        "histoire",
        "historia",
        "storia",
        "religion",
        "kirche",
        "church",
        "glaube",
        "faith",
        "philosophy",
        "philosophie",
        "theologie",
        "theology",
        "bibel",
        "bible",
        "predigt",
        "predigten",
    ),
    "travel_transport": (
        "travel",
        "reise",
        "reisen",
        "tourism",
        "tourismus",
        "urlaub",
        "auto",
        "autos",
        "cars",
        "motor",
        "mobilitat",
        "mobility",
        "verkehr",
        "transport",
        "voyage",
        "voyages",
        "viajes",
        "viaggi",
        "reizen",
        "viagem",
        "aviation",
        "luftfahrt",
        "bahn",
        "automobil",
        "motorrad",
    ),
    "lifestyle": (
        "food",
        "essen",
        "trinken",
        "rezepte",
        "recipes",
        "kochen",
        "cooking",
        "lifestyle",
        "mode",
        "fashion",
        "beauty",
        "wohnen",
        "home",
        "garden",
        "garten",
        "familie",
        "family",
        "parenting",
        "liebe",
        "love",
        "cuisine",
        "recettes",
        "recetas",
        "ricette",
        "stil",
        "style",
        "genuss",
        "haustiere",
        "pets",
        "diy",
        "hobby",
        "hobbies",
        "gastronomie",
        "wein",
        "wine",
    ),
    "adult": ("porn", "xxx", "erotik", "sex-videos"),
}

# format -> regular expressions on the lower-cased, unquoted path (searched anywhere). Only
# formats taxonomy 1's URL rules cannot name; theirs (forum, product, docs, wiki, news, blog
# paths) reach the format through filters/taxonomy.yaml's `legacy.from_domain`.
FORMAT_PATHS: dict[str, tuple[str, ...]] = {
    "legal_notice": (
        r"/(impressum|imprint|privacy(-policy)?|datenschutz(erklarung)?|terms(-of-(use|service))?|agb|legal|"
        r"disclaimer|cookie-?policy|nutzungsbedingungen|mentions-legales|aviso-legal|privacidad)(\.\w+)?/?$",
    ),
    "about_page": (
        r"/(about|about-us|uber-uns|ueber-uns|wir-uber-uns|kontakt|contact|contact-us|team|a-propos)(\.\w+)?/?$",
    ),
    "listing_index": (
        r"/(tag|tags|category|categories|kategorie|rubrik|archive|archiv|schlagwort|topics?)/[^/]+/?$",
        r"/page/\d+/?$",
        r"/search(/|$)",
        r"^/?$",
    ),
    "tutorial_howto": (r"/(how-?to|tutorials?|anleitung(en)?|rezepte?|recipes?|recettes?|recetas?|ricette)/",),
}

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_WORD_TOPIC = {word: topic for topic, words in SECTION_WORDS.items() for word in words}
_FORMAT_PATTERNS = [(fmt, re.compile(pattern)) for fmt, patterns in FORMAT_PATHS.items() for pattern in patterns]


def _fold_table() -> dict[int, str]:
    """Every Latin letter with a diacritic (U+00C0..U+024F) -> its base letters, lower case."""
    table = {}
    for code in range(0xC0, 0x250):
        base = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c)).lower()
        if base != chr(code).lower():
            table[code] = base
    table[ord("ß")] = "ss"
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case, accents removed (ü -> u, é -> e, ß -> ss): how section and topic words are written.
    A translate table, not NFKD per character: this runs on every document's first words."""
    return text.lower().translate(_FOLD)


def section_topic(section: str) -> str | None:
    """The topic a declared section names ("Sport", "Politik & Wirtschaft" -> the first known word's)."""
    for word in _WORD.findall(fold(section)):
        topic = _WORD_TOPIC.get(word)
        if topic:
            return topic
    return None


def url_path(url: str) -> str:
    try:
        return fold(unquote(urlsplit(url.strip()).path))
    except ValueError:
        return ""


def path_topic(url: str) -> tuple[str, str] | None:
    """(topic, "section:<word>") from the first path segment (but the last) that is a section word."""
    segments = [s for s in url_path(url).split("/") if s]
    for segment in segments[:-1]:  # the last segment names the page itself ("/2024/tennis-star-retires")
        topic = _WORD_TOPIC.get(segment)
        if topic:
            return topic, f"path:{segment}"
    return None


def path_format(url: str) -> tuple[str, str] | None:
    """(format, "path:<pattern>") for a legal notice, about page, listing or how-to path."""
    path = url_path(url)
    for fmt, pattern in _FORMAT_PATTERNS:
        if pattern.search(path):
            return fmt, f"path:{pattern.pattern}"
    return None
