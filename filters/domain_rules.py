"""Domain tags from URL rules: host, registered domain, subdomain, path, public suffix.

The taxonomy and the rules live in a YAML file (`domain_rules.yaml` next to this
module; its header documents the format). `DomainRules.load(extra_files)` reads
the user's files and the default one, checks every rule (an error names the file
and the rule's index), and compiles them into lookups (~15 us per URL with the shipped rules):

    kind       lookup                                    order among matches
    host       dict of exact hosts                       -
    domain     dict of host suffixes; "name.*" dict of   longest suffix wins
               registered names (any public suffix)
    subdomain  dict of labels + shell-style patterns     first rule wins
    path       one compiled regex per rule               first rule wins
    tld        dict of host suffixes                     longest suffix wins

Kinds are tried most specific first, in that order; the first kind that matches
decides. When every URL rule is silent, content signals on the text may decide
(`filters/domain_content.py`), else the tag is "other" with rule "default".
User files come first within each kind: their host, domain and tld keys replace
the default file's, their subdomain and path rules are tried before its rules.

Registered domains and subdomains come from the Public Suffix List snapshot that
tldextract carries (pinned in setup.py); it is read offline, never fetched.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from filters.domain_content import judge_content, measure_content

DEFAULT_RULES_PATH = Path(__file__).with_name("domain_rules.yaml")
KINDS = ("host", "domain", "subdomain", "path", "tld")  # precedence: most specific first
OTHER = "other"
DEFAULT_RULE = "default"

_TAG = re.compile(r"[a-z0-9_-]+")  # tags become output folder names domain=<tag> (pipeline/core/schema.py)
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_ANY_SUFFIX = ".*"  # domain "amazon.*": the registered name under any public suffix
_LABEL_PATTERN = re.compile(r"[a-z0-9_*?-]+")
_FILE_KEYS = ("taxonomy_version", "taxonomy", "rules")
# Wayback Machine captures carry the archived page's URL: tag that page, not archive.org.
_WAYBACK = re.compile(r"^https?://web\.archive\.org/web/\d+[a-z_]*/(.+)$", re.IGNORECASE)


class DomainRulesError(ValueError):
    """A rules file is unreadable or wrong; the message names the file and rule index."""


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # one of KINDS
    pattern: str  # as written, lower-cased
    tag: str
    where: str  # "<file>: rules[<index>]", for error messages

    @property
    def id(self) -> str:
        """What a tagged document records in `domain_rule`, e.g. "domain:wikipedia.org"."""
        return f"{self.kind}:{self.pattern}"


@dataclasses.dataclass(frozen=True, slots=True)
class RulesFile:
    path: str
    taxonomy_version: int | None  # only the default file sets it
    taxonomy: Mapping[str, str]  # tag -> one-line description
    rules: tuple[Rule, ...]


def read_rules_file(path: str | Path) -> RulesFile:
    """Parse and check one rules file (tags are checked later, against every file's taxonomy)."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError as err:
        raise DomainRulesError(f"{path}: rules file not found") from err
    except yaml.YAMLError as err:
        raise DomainRulesError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise DomainRulesError(f"{path}: must be a mapping with keys {', '.join(_FILE_KEYS)}")
    unknown = sorted(set(raw) - set(_FILE_KEYS))
    if unknown:
        raise DomainRulesError(f"{path}: unknown key {unknown[0]!r}; allowed: {', '.join(_FILE_KEYS)}")
    version = raw.get("taxonomy_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        raise DomainRulesError(f"{path}: taxonomy_version must be a positive integer, not {version!r}")
    taxonomy = raw.get("taxonomy") or {}
    if not isinstance(taxonomy, dict):
        raise DomainRulesError(f"{path}: taxonomy must map tags to descriptions")
    for tag, description in taxonomy.items():
        if not isinstance(tag, str) or not _TAG.fullmatch(tag):
            raise DomainRulesError(f"{path}: taxonomy tag {tag!r} must be lower-case letters, digits, _ or -")
        if not isinstance(description, str) or not description.strip():
            raise DomainRulesError(f"{path}: taxonomy.{tag} needs a one-line description")
    rules_raw = raw.get("rules") or []
    if not isinstance(rules_raw, list):
        raise DomainRulesError(f"{path}: rules must be a list")
    rules = tuple(
        rule for index, entry in enumerate(rules_raw) for rule in _parse_rule(entry, f"{path}: rules[{index}]")
    )
    return RulesFile(path, version, dict(taxonomy), rules)


def _parse_rule(entry: object, where: str) -> list[Rule]:
    if not isinstance(entry, dict):
        raise DomainRulesError(f"{where}: must be a mapping like {{domain: example.org, tag: news}}")
    kinds = [k for k in entry if k in KINDS]
    unknown = [k for k in entry if k not in KINDS and k != "tag"]
    if unknown or len(kinds) != 1:
        raise DomainRulesError(
            f"{where}: needs exactly one of {', '.join(KINDS)} and a tag; got keys {', '.join(map(str, entry))}"
        )
    tag = entry.get("tag")
    if not isinstance(tag, str):
        raise DomainRulesError(f"{where}: tag must be a string, not {tag!r}")
    (kind,) = kinds
    patterns = entry[kind] if isinstance(entry[kind], list) else [entry[kind]]
    if not patterns:
        raise DomainRulesError(f"{where}: {kind} list is empty")
    rules = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise DomainRulesError(f"{where}: {kind} pattern must be a non-empty string, not {pattern!r}")
        pattern = pattern.strip().lower()
        if kind in ("host", "domain"):
            pattern = pattern.removeprefix("www.")  # hosts are matched without it
        _check_pattern(kind, pattern, where)
        rules.append(Rule(kind, pattern, tag, where))
    return rules


def _check_pattern(kind: str, pattern: str, where: str) -> None:
    if kind == "path":
        try:
            re.compile(pattern)
        except re.error as err:
            raise DomainRulesError(f"{where}: bad path regex {pattern!r}: {err}") from err
        return
    if kind == "subdomain":
        if not _LABEL_PATTERN.fullmatch(pattern):
            raise DomainRulesError(f"{where}: subdomain {pattern!r} must be one label (letters, digits, -, _, * or ?)")
        return
    name = pattern.removesuffix(_ANY_SUFFIX) if kind == "domain" else pattern
    if not _HOST_NAME.fullmatch(name):
        hint = " ('name.*' is the only wildcard)" if "*" in pattern else ""
        raise DomainRulesError(f"{where}: {kind} {pattern!r} is not a host name like example.org{hint}")


@dataclasses.dataclass(frozen=True, slots=True)
class UrlParts:
    host: str  # lower-case, no trailing dot, leading "www." removed
    subdomain_labels: tuple[str, ...]  # labels left of the registered domain
    registered_name: str  # "bbc" for news.bbc.co.uk; "" for IP addresses and bare suffixes
    path: str  # lower-case path


class DomainRules:
    """Compiled rules: `tag(url, host, text)` gives `(tag, rule_id)`."""

    def __init__(self, files: Sequence[RulesFile]):
        """`files` in precedence order: the first file's rules win within each kind."""
        if not files:
            raise DomainRulesError("no rules files given")
        versions = [f for f in files if f.taxonomy_version is not None]
        if len(versions) != 1:
            raise DomainRulesError(
                "exactly one rules file (the default one) sets taxonomy_version; "
                f"found {len(versions)}: {', '.join(f.path for f in versions) or 'none'}"
            )
        self.taxonomy_version: int = versions[0].taxonomy_version
        taxonomy: dict[str, str] = {}
        for f in reversed(files):
            taxonomy.update(f.taxonomy)
        if OTHER not in taxonomy:
            raise DomainRulesError(f"{versions[0].path}: the taxonomy must hold the tag {OTHER!r}")
        self.taxonomy: Mapping[str, str] = taxonomy
        ordered = [rule for f in files for rule in f.rules]
        for rule in ordered:
            if rule.tag not in taxonomy:
                raise DomainRulesError(f"{rule.where}: unknown tag {rule.tag!r}; allowed: {', '.join(taxonomy)}")
        self._hosts = _first_by_key(r for r in ordered if r.kind == "host")
        domains = [r for r in ordered if r.kind == "domain"]
        self._domains = _first_by_key(r for r in domains if not r.pattern.endswith(_ANY_SUFFIX))
        self._names = {
            r.pattern.removesuffix(_ANY_SUFFIX): r for r in reversed(domains) if r.pattern.endswith(_ANY_SUFFIX)
        }
        self._tlds = _first_by_key(r for r in ordered if r.kind == "tld")
        subdomains = [r for r in ordered if r.kind == "subdomain"]
        self._labels = {r.pattern: (i, r) for i, r in reversed(list(enumerate(subdomains))) if not _is_glob(r.pattern)}
        self._label_globs = [
            (i, re.compile(fnmatch.translate(r.pattern)), r) for i, r in enumerate(subdomains) if _is_glob(r.pattern)
        ]
        # One search per rule, in order: 14 us per URL over the default rules, where a
        # single alternation of all of them took 160 us (re has no multi-pattern scan).
        self._paths = [(re.compile(r.pattern), r) for r in ordered if r.kind == "path"]
        self._extract = _suffix_extractor()

    @classmethod
    def load(
        cls, extra_files: Sequence[str] = (), *, default_file: str | Path | None = DEFAULT_RULES_PATH
    ) -> DomainRules:
        """The default rules plus the user's `extra_files`, which take precedence."""
        paths = [*extra_files, *([default_file] if default_file is not None else [])]
        return cls([read_rules_file(p) for p in paths])

    def split(self, url: str, host: str = "") -> UrlParts:
        """The parts of a URL the rules look at; a Wayback Machine URL is unwrapped first."""
        wayback = _WAYBACK.match(url)
        if wayback:
            url = wayback.group(1)
            url, host = (url if "://" in url else "http://" + url), ""
        try:
            parts = urlsplit(url)
            host = host or parts.hostname or ""
            path = parts.path.lower()
        except ValueError:
            path = ""
        host = host.lower().rstrip(".").removeprefix("www.")
        extracted = self._extract(host) if host else None
        if extracted is None or not extracted.domain or not extracted.suffix:
            return UrlParts(host, (), "", path)
        subdomain = tuple(label for label in extracted.subdomain.split(".") if label and label != "www")
        return UrlParts(host, subdomain, extracted.domain, path)

    def match_url(self, url: str, host: str = "") -> Rule | None:
        """The deciding URL rule, or None when every URL rule is silent."""
        parts = self.split(url, host)
        if parts.host:
            rule = self._hosts.get(parts.host) or _longest_suffix(self._domains, parts.host)
            if rule is None and parts.registered_name:
                rule = self._names.get(parts.registered_name)
            if rule is None:
                rule = self._match_subdomain(parts.subdomain_labels)
            if rule is not None:
                return rule
        rule = self._match_path(parts.path)
        if rule is None and parts.host:
            rule = _longest_suffix(self._tlds, parts.host)
        return rule

    def tag(self, url: str, host: str = "", text: str = "", *, content_signals: bool = True) -> tuple[str, str]:
        """`(tag, rule_id)`: URL rules, then content signals on `text`, then ("other", "default")."""
        return self.decide(
            self.match_url(url, host),
            lambda: judge_content(measure_content(text)) if content_signals and text else None,
        )

    def decide(self, url_rule: Rule | None, content_tag: Callable[[], str | None]) -> tuple[str, str]:
        """`(tag, rule_id)` from a deciding URL rule, else the content signals' tag (asked only then)."""
        if url_rule is not None:
            return url_rule.tag, url_rule.id
        tag = content_tag()
        if tag is not None and tag in self.taxonomy:
            return tag, f"content:{tag}"
        return OTHER, DEFAULT_RULE

    def _match_subdomain(self, labels: tuple[str, ...]) -> Rule | None:
        best: tuple[int, Rule] | None = None
        for label in labels:
            for candidate in [self._labels.get(label), *((i, r) for i, rx, r in self._label_globs if rx.match(label))]:
                if candidate is not None and (best is None or candidate[0] < best[0]):
                    best = candidate
        return best[1] if best else None

    def _match_path(self, path: str) -> Rule | None:
        if path:
            for regex, rule in self._paths:
                if regex.search(path):
                    return rule
        return None


def _first_by_key(rules) -> dict[str, Rule]:
    """pattern -> rule, the first rule in precedence order winning a repeated pattern."""
    table: dict[str, Rule] = {}
    for rule in rules:
        table.setdefault(rule.pattern, rule)
    return table


def _longest_suffix(table: Mapping[str, Rule], host: str) -> Rule | None:
    labels = host.split(".")
    for i in range(len(labels)):
        rule = table.get(".".join(labels[i:]))
        if rule is not None:
            return rule
    return None


def _is_glob(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _suffix_extractor():
    import tldextract

    # No suffix-list URLs and no cache: tldextract reads its bundled snapshot, offline.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
