"""terraform/: every file parses, and checkov's static analysis fails nothing.

No provider can be downloaded here, so `terraform validate/plan` cannot run; python-hcl2
parses the files and checkov (--skip-download: no network) checks them. checkov pins
packaging<24 and an old boto3, so it lives in its own venv (`make test` builds
build/checkov-venv); GRISTMILL_CHECKOV points at another binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

from tests.conftest import REPO

try:
    import hcl2
except ImportError:
    skip_or_fail("python-hcl2 is in the dev extra: pip install -e '.[dev]'")

TERRAFORM = REPO / "terraform"
TF_FILES = sorted(TERRAFORM.rglob("*.tf"))


def _checkov() -> str:
    for candidate in (
        os.environ.get("GRISTMILL_CHECKOV"),
        str(REPO / "build" / "checkov-venv" / "bin" / "checkov"),
        shutil.which("checkov"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    skip_or_fail("checkov not found: `make build/checkov-venv/bin/checkov` (it conflicts with the main venv's pins)")


def _unquote(name: str) -> str:
    return name.strip('"')


def _resources(module: Path) -> list[str]:
    found = []
    for path in sorted(module.glob("*.tf")):
        with path.open(encoding="utf-8") as f:
            for block in hcl2.load(f).get("resource", []):
                for kind, named in block.items():
                    found.extend(f"{_unquote(kind)}.{_unquote(name)}" for name in named)
    return found


@pytest.mark.parametrize("path", TF_FILES, ids=[str(p.relative_to(TERRAFORM)) for p in TF_FILES])
def test_every_tf_file_parses(path):
    with path.open(encoding="utf-8") as f:
        assert hcl2.load(f) is not None


@pytest.mark.parametrize("module", ["gcp", "aws"])
def test_module_has_variables_outputs_versions_and_readme(module):
    folder = TERRAFORM / module
    for name in ("variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (folder / name).is_file(), f"terraform/{module}/{name} missing"
    with (folder / "versions.tf").open(encoding="utf-8") as f:
        providers = hcl2.load(f)["terraform"][0]["required_providers"][0]
    versions = [spec["version"] for name, spec in providers.items() if not name.startswith("__")]
    assert versions and all(
        re.fullmatch(r'"?~> \d+\.\d+"?', v) for v in versions
    )  # each provider pinned to one major series


def test_gcp_module_creates_the_deployment(capsys):
    resources = _resources(TERRAFORM / "gcp")
    with capsys.disabled():
        print("\nterraform/gcp resources:\n  " + "\n  ".join(resources))
        print("terraform/aws resources:\n  " + "\n  ".join(_resources(TERRAFORM / "aws")))
    kinds = {r.split(".")[0] for r in resources}
    assert {
        "google_storage_bucket",
        "google_service_account",
        "google_artifact_registry_repository",
        "google_dataflow_flex_template_job",
        "google_container_cluster",
        "google_container_node_pool",
    } <= kinds
    assert "google_project_iam_binding" not in kinds  # authoritative bindings would strip other members' roles


def test_checkov_fails_nothing_and_every_skip_is_justified():
    result = subprocess.run(
        [_checkov(), "-d", str(TERRAFORM), "--skip-download", "--compact", "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    summary = {key: sum(r["summary"][key] for r in reports) for key in ("passed", "failed", "skipped")}
    print(f"checkov: {summary}")
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r["results"]["failed_checks"]
    ]
    assert not failed and result.returncode == 0, "\n".join(failed) or result.stderr
    assert summary["passed"] > 0
    skips = [
        line for path in TF_FILES for line in path.read_text(encoding="utf-8").splitlines() if "checkov:skip" in line
    ]
    assert len(skips) == summary["skipped"]
    assert all(re.search(r"#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{15,}", line) for line in skips), skips
