"""Digest a run's outputs, to show that a change leaves them byte for byte the same.

    python bench/output_digest.py OUT > before.txt      # one line per file: sha256, path
    ... change the code, rerun into the same OUT ...
    python bench/output_digest.py OUT --compare before.txt

Every file under OUT is hashed as it is, except `manifest.json`, whose `created_at`
(the one value a rerun changes) is blanked first, and `report.html`, which quotes it.
Exit status 1 when --compare finds a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

_VOLATILE = {"manifest.json": ("created_at",)}
_SKIPPED = {"report.html", "report_compare.html"}


def digest(path: Path) -> str:
    data = path.read_bytes()
    keys = _VOLATILE.get(path.name)
    if keys:
        doc = json.loads(data)
        for key in keys:
            doc.pop(key, None)
        data = json.dumps(doc, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def digests(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): digest(path)
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name not in _SKIPPED
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--compare", type=Path, help="an earlier listing of this script")
    args = parser.parse_args(argv)
    now = digests(args.out)
    if args.compare is None:
        for name, value in now.items():
            print(f"{value}  {name}")
        return 0
    before = dict(reversed(line.split("  ", 1)) for line in args.compare.read_text().splitlines() if line)
    before = {name.strip(): value for name, value in before.items()}
    changed = sorted(name for name in before.keys() & now.keys() if before[name] != now[name])
    missing, extra = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
    for label, names in (("changed", changed), ("missing", missing), ("new", extra)):
        for name in names:
            print(f"{label}: {name}")
    print(
        f"{len(now)} files, {len(before.keys() & now.keys()) - len(changed)} identical, "
        f"{len(changed)} changed, {len(missing)} missing, {len(extra)} new"
    )
    return 1 if changed or missing or extra else 0


if __name__ == "__main__":
    sys.exit(main())
