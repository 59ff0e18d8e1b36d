"""HTML to main text: the trafilatura and resiliparse backends (pure, no Beam).

`make_extractor(config)` returns a function `(html, url) -> text`. It runs inside
the extraction sandbox process (see `sandbox.py`), which enforces the time limit.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.config import ExtractConfig

Extractor = Callable[[str, str], str]


def make_extractor(config: ExtractConfig) -> Extractor:
    if config.backend == "resiliparse":
        return _resiliparse(config)
    return _trafilatura(config)


def _trafilatura(config: ExtractConfig) -> Extractor:
    import trafilatura
    from trafilatura.settings import use_config

    settings = use_config()
    # trafilatura's own limit uses SIGALRM; the sandbox enforces the limit instead.
    settings.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")

    def extract(html: str, url: str) -> str:
        text = trafilatura.extract(
            html,
            url=url or None,
            favor_precision=config.favor_precision,
            include_comments=config.include_comments,
            include_tables=config.include_tables,
            fast=config.fast,
            deduplicate=False,
            config=settings,
        )
        return text or ""

    return extract


def _resiliparse(config: ExtractConfig) -> Extractor:
    from resiliparse.extract.html2text import extract_plain_text

    def extract(html: str, url: str) -> str:
        return extract_plain_text(
            html,
            main_content=True,
            alt_texts=False,
            links=False,
            skip_elements=None if config.include_tables else ["table"],
            comments=config.include_comments,
        )

    return extract
