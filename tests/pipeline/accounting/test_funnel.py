import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.accounting.funnel import RecordFunnel, build_funnel, funnel_inputs
from pipeline.accounting.guard import StageOutput
from pipeline.core.records import DropReason, Rejection

STAGES = ["ReadWarc", "ExtractText", "IdentifyLanguage"]


def test_build_funnel_conserves_and_orders_reasons():
    events = [
        (("ReadWarc", "__kept__"), 10),
        (("ReadWarc", "request_record"), 8),
        (("ReadWarc", "not_html"), 2),
        (("ExtractText", "__kept__"), 9),
        (("ExtractText", "empty_text"), 1),
        (("IdentifyLanguage", "__kept__"), 7),
        (("IdentifyLanguage", "language_score_too_low"), 2),
    ]
    funnel = build_funnel(events, STAGES)
    assert funnel["records_read"] == 20
    assert funnel["kept"] == 7
    assert funnel["dropped"] == 13
    assert funnel["conserved"] is True
    assert list(funnel["dropped_by_reason"]) == ["request_record", "language_score_too_low", "not_html", "empty_text"]
    assert [s["in"] for s in funnel["stages"]] == [20, 10, 9]
    assert funnel["stages"][1] == {
        "stage": "ExtractText",
        "in": 10,
        "out": 9,
        "dropped": 1,
        "dropped_by_reason": {"empty_text": 1},
    }


def test_build_funnel_flags_a_leak():
    # ExtractText received 10 but accounts for only 9: a record vanished
    events = [(("ReadWarc", "__kept__"), 10), (("ExtractText", "__kept__"), 9), (("IdentifyLanguage", "__kept__"), 9)]
    assert build_funnel(events, STAGES)["conserved"] is False


def test_empty_run():
    funnel = build_funnel([], STAGES)
    assert funnel["records_read"] == 0 and funnel["kept"] == 0 and funnel["conserved"] is True


def test_record_funnel_in_beam(tmp_path):
    with TestPipeline() as p:

        def stage(name, kept, reasons):
            return StageOutput(
                p | f"K{name}" >> beam.Create(list(range(kept))),
                p | f"D{name}" >> beam.Create([Rejection(name, r) for r in reasons]),
            )

        stages = [
            ("ReadWarc", stage("ReadWarc", 3, [DropReason.REQUEST_RECORD] * 4)),
            ("ExtractText", stage("ExtractText", 2, [DropReason.EMPTY_TEXT])),
            ("IdentifyLanguage", stage("IdentifyLanguage", 0, [DropReason.LANGUAGE_NOT_WANTED] * 2)),
        ]
        funnel_inputs(stages) | RecordFunnel(str(tmp_path), STAGES)
    funnel = json.loads((tmp_path / "stats" / "funnel.json").read_text())
    assert funnel["records_read"] == 7
    assert funnel["kept"] == 0
    assert funnel["conserved"] is True
    assert funnel["stages"][2]["dropped_by_reason"] == {"language_not_wanted": 2}
