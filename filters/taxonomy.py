"""The content taxonomy: topic and format classes with their definitions (filters/taxonomy.yaml).

`Taxonomy.load()` reads and checks the shipped file once; the classifiers, the labellers
and the mixture all take their class names from it. `legacy_format(tag)` and
`legacy_topic(tag)` say what a taxonomy-1 domain tag (a URL rule's) means on the new
axes; `domain_for_format(fmt)` goes the other way for documents the rules leave "other".
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_FILE_KEYS = {"taxonomy_version", "topics", "formats", "legacy"}


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the key."""


@dataclasses.dataclass(frozen=True, slots=True)
class Taxonomy:
    version: int
    topics: Mapping[str, str]  # class -> one-line definition, in file order
    formats: Mapping[str, str]
    from_domain: Mapping[str, Mapping[str, str]]  # taxonomy-1 tag -> {"format": f, "topic": t} (either may be absent)
    to_domain: Mapping[str, str]  # format -> taxonomy-1 tag
    silent_rules: frozenset[str] = frozenset()  # URL rule ids whose tag says nothing of the format

    @classmethod
    def load(cls, path: str | Path = TAXONOMY_PATH) -> Taxonomy:
        return _load(str(path))

    def legacy_format(self, tag: str) -> str | None:
        return self.from_domain.get(tag, {}).get("format")

    def legacy_topic(self, tag: str) -> str | None:
        return self.from_domain.get(tag, {}).get("topic")

    def names_no_format(self, rule_id: str) -> bool:
        return rule_id in self.silent_rules

    def domain_for_format(self, fmt: str) -> str | None:
        return self.to_domain.get(fmt)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Taxonomy:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or set(raw) != _FILE_KEYS:
        raise TaxonomyError(f"{path}: expected the keys {sorted(_FILE_KEYS)}")
    topics, formats = _classes(raw["topics"], "topics", path), _classes(raw["formats"], "formats", path)
    legacy = raw["legacy"] or {}
    from_domain = {}
    for tag, axes in (legacy.get("from_domain") or {}).items():
        if not isinstance(axes, dict) or not set(axes) <= {"format", "topic"}:
            raise TaxonomyError(f"{path}: legacy.from_domain.{tag}: expected {{format: ..., topic: ...}}")
        _known(axes.get("format"), formats, f"legacy.from_domain.{tag}.format", path)
        _known(axes.get("topic"), topics, f"legacy.from_domain.{tag}.topic", path)
        from_domain[str(tag)] = dict(axes)
    to_domain = {}
    for fmt, tag in (legacy.get("to_domain") or {}).items():
        _known(fmt, formats, f"legacy.to_domain.{fmt}", path)
        to_domain[str(fmt)] = str(tag)
    silent = legacy.get("silent_rules") or []
    if not isinstance(silent, list) or not all(isinstance(rule, str) for rule in silent):
        raise TaxonomyError(f"{path}: legacy.silent_rules: expected a list of rule ids such as 'path:/blog/'")
    return Taxonomy(int(raw["taxonomy_version"]), topics, formats, from_domain, to_domain, frozenset(silent))


def _classes(raw, key: str, path: str) -> dict[str, str]:
    if not isinstance(raw, dict) or len(raw) < 2:
        raise TaxonomyError(f"{path}: {key}: expected a mapping of at least two classes to definitions")
    for name, definition in raw.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise TaxonomyError(f"{path}: {key}.{name}: class names are lower case [a-z0-9_]")
        if not isinstance(definition, str) or not definition.strip():
            raise TaxonomyError(f"{path}: {key}.{name}: needs a one-line definition")
    return dict(raw)


def _known(name, classes: Mapping[str, str], key: str, path: str) -> None:
    if name is not None and name not in classes:
        raise TaxonomyError(f"{path}: {key}: unknown class {name!r}")
