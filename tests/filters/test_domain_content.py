"""Content signals: each tag from an inline page, and prose that must stay untagged."""

from __future__ import annotations

import pytest

from filters.domain_content import ContentSignals, judge_content, measure_content

CODE = """How to read a file in Python
Open it with a context manager:
import json
def load(path):
    with open(path) as f:
        return json.load(f)
config = load("settings.json")
for key in config:
    print(key);
That is all there is to it.
"""

FORUM = """Printer not found after update
Posted by mike_h on 12 March 2021
Joined: Jan 2019
Posts: 1,204
My printer vanished after the last update. Any ideas?
Re: Printer not found after update
Did you reinstall the driver? That fixed it for me.
Quote
Reply
"""

SHOP = """Blue Ceramic Mug 350 ml
$14.99
Was $19.99, now $14.99 with free shipping on orders over $50.
In stock
Add to cart
"""

SHOP_DE = "Kaffeebecher blau\n12,99 €\nStatt 15,99 € nur 12,99 €\nAuf Lager, Lieferzeit 2 Tage\nIn den Warenkorb\n"

PAPER = """Sparse attention for long documents
Abstract
We study attention patterns over long inputs, following Beltagy et al. (2020).
Our results appear in the Proceedings of the ACL, pp. 112-120.
References
"""

NEWS = (
    "WASHINGTON (Reuters) - The Senate passed the spending bill late on Tuesday, "
    "sending it to the president before the deadline.\nLawmakers had argued for weeks."
)
NEWS_NO_AGENCY = (
    "SIMMELSDORF – Am Samstag gegen 17.50 Uhr kam ein Wagen auf der Staatsstraße von der "
    "Fahrbahn ab und prallte gegen einen Baum."
)

PROSE = """The old mill stood by the river for two hundred years.
Farmers brought their grain in autumn, and the miller's family lived upstairs.
In 1920 the wheel stopped; today the building is a small museum (open on Sundays).
Visitors can still see the millstones, which were cut from local sandstone.
"""


@pytest.mark.parametrize(
    "text, tag",
    [
        (CODE, "code"),
        (FORUM, "forum_qa"),
        (SHOP, "commerce"),
        (SHOP_DE, "commerce"),
        (PAPER, "academic"),
        (NEWS, "news"),
        (NEWS_NO_AGENCY, "news"),
        (PROSE, None),
        ("", None),
    ],
)
def test_judge_content(text, tag):
    assert judge_content(measure_content(text)) == tag


def test_measurements_are_exact():
    assert measure_content(FORUM) == ContentSignals(
        lines=9,
        code_lines=0,
        forum_lines=6,
        forum_kinds=4,
        prices=0,
        shop_phrases=0,
        academic_kinds=0,
        has_dateline=False,
    )
    assert measure_content(SHOP) == ContentSignals(
        lines=5,
        code_lines=0,
        forum_lines=0,
        forum_kinds=0,
        prices=4,
        shop_phrases=3,
        academic_kinds=0,
        has_dateline=False,
    )
    assert measure_content(CODE).code_lines == 7


@pytest.mark.parametrize(
    "text",
    [
        "He said he would reply later. She answered the phone and quoted a price of 5 euros.",  # prose words alone
        "Die Verantwortung liegt bei der Antwortenden? Nein: bei uns allen.",  # 'antwort' inside longer words
        "This abstract painting references the sea.\nIt sold in 2019.",  # headings only count on their own line
        "SPORT - Results\nHOME - Contact",  # capitals and a dash make no dateline without a paragraph after
        "The neuron fired at 20 Hz; the eur-lex page was down.",  # no currency without a digit beside it
    ],
)
def test_ordinary_text_is_not_tagged(text):
    assert judge_content(measure_content(text)) is None
