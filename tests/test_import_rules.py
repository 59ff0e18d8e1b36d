"""filters/ and classifiers/ are pure: they never import Apache Beam, even indirectly."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _modules(folder: str) -> list[str]:
    return [f"{folder}.{p.stem}" for p in sorted((REPO / folder).glob("*.py")) if p.stem != "__init__"]


def test_pure_packages_do_not_import_beam():
    modules = _modules("filters") + _modules("classifiers")
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "    assert 'apache_beam' not in sys.modules, m + ' imports apache_beam'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_no_source_file_mentions_beam_in_pure_packages():
    for folder in ("filters", "classifiers"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            assert "import apache_beam" not in text and "from apache_beam" not in text, path
