"""commit(): a rename that fails transiently is retried; one whose effect is visible counts as done."""

from __future__ import annotations

import pytest
from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

from pipeline.accounting import commit as commit_module
from pipeline.accounting.commit import commit, write_file


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(commit_module.time, "sleep", lambda seconds: None)


def _flaky(real, failures: int, *, after: bool = False):
    """A rename that raises `failures` times, before (or, with `after`, after) doing its work."""
    calls = {"n": 0}

    def rename(sources, destinations):
        calls["n"] += 1
        if calls["n"] <= failures:
            if after:
                real(sources, destinations)
            raise BeamIOError("Rename operation failed", {})
        return real(sources, destinations)

    return rename, calls


def test_a_transient_failure_is_retried(tmp_path, monkeypatch):
    temporary, final = tmp_path / ".x.tmp", tmp_path / "x"
    temporary.write_text("data")
    rename, calls = _flaky(FileSystems.rename, 2)
    monkeypatch.setattr(FileSystems, "rename", rename)
    commit(str(temporary), str(final))
    assert final.read_text() == "data" and not temporary.exists() and calls["n"] == 3


def test_a_lost_response_after_the_rename_counts_as_done(tmp_path, monkeypatch):
    temporary, final = tmp_path / ".x.tmp", tmp_path / "x"
    temporary.write_text("data")
    rename, calls = _flaky(FileSystems.rename, 1, after=True)
    monkeypatch.setattr(FileSystems, "rename", rename)
    commit(str(temporary), str(final))
    assert final.read_text() == "data" and calls["n"] == 1


def test_replace_and_give_up_loudly(tmp_path, monkeypatch):
    temporary, final = tmp_path / ".x.tmp", tmp_path / "x"
    final.write_text("old")
    temporary.write_text("new")
    commit(str(temporary), str(final), replace=True)
    assert final.read_text() == "new"
    temporary.write_text("newer")
    rename, calls = _flaky(FileSystems.rename, 100)
    monkeypatch.setattr(FileSystems, "rename", rename)
    with pytest.raises(BeamIOError):
        commit(str(temporary), str(final))
    assert calls["n"] == commit_module.ATTEMPTS and temporary.read_text() == "newer"


def test_a_write_whose_upload_fails_is_written_again_whole(tmp_path):
    """S3 can fail the completion of an upload after its client's retries: the whole write is redone under a new
    temporary, the failed one removed, and the file ends up whole, once."""
    calls = {"n": 0}

    def write(sink):
        calls["n"] += 1
        sink.write(b"first half ")
        if calls["n"] <= 2:
            raise BeamIOError("CompleteMultipartUpload: SlowDown", {})
        sink.write(b"second half")

    write_file(str(tmp_path / "x.json"), write)
    assert (tmp_path / "x.json").read_bytes() == b"first half second half" and calls["n"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_write_that_keeps_failing_raises(tmp_path):
    def write(sink):
        raise BeamIOError("SlowDown", {})

    with pytest.raises(BeamIOError):
        write_file(str(tmp_path / "x.json"), write)
    assert list(tmp_path.iterdir()) == []
