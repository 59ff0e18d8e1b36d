from pathlib import Path

from pipeline.core.records import Document, Provenance
from pipeline.core.schema import SCHEMA, document_to_row, estimate_tokens, parse_warc_date, safe_domain, schema_markdown

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_documents_every_column():
    assert schema_markdown() in README.read_text()


def test_row_matches_schema():
    doc = Document(
        id="a" * 20,
        url="https://x.org/",
        host="x.org",
        text="héllo wörld",
        provenance=Provenance("f", 3, 0, fetch_time="2024-05-18T01:58:10Z"),
        pii_counts={"EMAIL_ADDRESS": 2},
    )
    row = document_to_row(doc)
    assert list(row) == SCHEMA.names
    assert row["token_estimate"] == estimate_tokens("héllo wörld") == 4  # 13 UTF-8 bytes
    assert row["pii_counts"] == [{"entity": "EMAIL_ADDRESS", "count": 2}]
    assert row["fetch_time"].isoformat() == "2024-05-18T01:58:10+00:00"


def test_helpers():
    assert safe_domain("Forum/QA") == "forum_qa" and safe_domain("") == "unknown"
    assert parse_warc_date("") is None and parse_warc_date("yesterday") is None
    assert parse_warc_date("2008-04-30T20:48:25.123456Z").microsecond == 123456
