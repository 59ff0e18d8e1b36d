"""URL blocklist: blocked domains (with their subdomains) and banned URL substrings.

Lists come from plain files, one entry per line, `#` starts a comment. A domain
entry blocks the host itself and every subdomain (`example.com` blocks
`www.example.com` and `a.b.example.com`, not `badexample.com`), as datatrove's
URL filter does. A substring entry blocks any URL containing it (compared
lower-case, scheme removed). UT1-style lists fit as they are: point
`domain_files` at a category's `domains` file and `url_substring_files` at its
`urls` file. No third-party list ships with gristmill.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from pipeline.core.records import KEEP, DropReason, Verdict, drop


def read_list(path: str) -> list[str]:
    """Entries of a list file: stripped, lower-cased, comments and blank lines removed."""
    entries = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            entry = line.split("#", 1)[0].strip().lower()
            if entry:
                entries.append(entry)
    return entries


class UrlBlocklist:
    """`check(url)` keeps a URL or drops it as BLOCKED_DOMAIN / BLOCKED_URL."""

    def __init__(self, domains: Iterable[str] = (), substrings: Iterable[str] = ()):
        self._domains = frozenset(d.lower().removeprefix("*.").strip(".") for d in domains if d.strip("*. "))
        substrings = sorted({s.lower() for s in substrings if s}, key=len, reverse=True)
        # one alternation of escaped literals: a single scan per URL whatever the list size
        self._substrings = re.compile("|".join(map(re.escape, substrings))) if substrings else None

    @classmethod
    def from_files(cls, domain_files: Iterable[str] = (), substring_files: Iterable[str] = ()) -> UrlBlocklist:
        domains = [entry for path in domain_files for entry in read_list(path)]
        substrings = [entry for path in substring_files for entry in read_list(path)]
        return cls(domains, substrings)

    @property
    def empty(self) -> bool:
        return not self._domains and self._substrings is None

    def is_blocked_host(self, host: str) -> bool:
        labels = host.lower().rstrip(".").split(".")
        return any(".".join(labels[i:]) in self._domains for i in range(len(labels)))

    def check(self, url: str) -> Verdict:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        if self._domains and host and self.is_blocked_host(host):
            return drop(DropReason.BLOCKED_DOMAIN)
        if self._substrings is not None:
            bare = url.lower().split("://", 1)[-1]
            if self._substrings.search(bare):
                return drop(DropReason.BLOCKED_URL)
        return KEEP
