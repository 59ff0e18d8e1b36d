import time

import pytest

from pipeline.config import ExtractConfig
from pipeline.extraction.sandbox import ExtractionSandbox

ARTICLE = (
    "<html><head><title>Rivers</title></head><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
    "<article><h1>Rivers of the north</h1>"
    + "".join(
        f"<p>Paragraph {i}: the river runs through the valley, carrying silt from the mountains to the sea, "
        f"and the people who live on its banks have farmed the rich soil for many generations.</p>"
        for i in range(6)
    )
    + "</article><footer>Copyright 2024 Example Press. All rights reserved.</footer></body></html>"
)


@pytest.mark.parametrize("backend", ["trafilatura", "resiliparse"])
def test_extracts_main_text(backend):
    with ExtractionSandbox(ExtractConfig(backend=backend)) as sandbox:
        result = sandbox.extract(ARTICLE, "https://example.org/rivers")
    assert not result.timed_out and not result.error
    assert "the river runs through the valley" in result.text
    assert "All rights reserved" not in result.text


def test_timeout_restarts_the_sandbox_and_it_keeps_working():
    # trafilatura takes far longer than 50 ms on a page nested thousands of levels deep
    pathological = "<html><body>" + "<div><p>x " * 20000 + "</p></div>" * 20000 + "</body></html>"
    with ExtractionSandbox(ExtractConfig(timeout_s=0.05)) as sandbox:
        started = time.monotonic()
        result = sandbox.extract(pathological, "")
        assert result.timed_out
        assert time.monotonic() - started < 10
        assert sandbox.restarts == 1
    with ExtractionSandbox(ExtractConfig(timeout_s=30)) as sandbox:
        assert "river runs" in sandbox.extract(ARTICLE, "").text


def test_sandbox_survives_a_dead_child():
    with ExtractionSandbox(ExtractConfig()) as sandbox:
        sandbox._process.kill()
        sandbox._process.wait()
        result = sandbox.extract(ARTICLE, "")
        assert result.error == "SandboxDied"
        assert "river runs" in sandbox.extract(ARTICLE, "").text
