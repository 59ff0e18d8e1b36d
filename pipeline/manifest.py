"""`manifest.json`: what the training launcher reads (shards, rows, tokens, domains, weights).

`build_manifest` is pure; `validate_manifest` checks a loaded manifest and names
the first bad key. Until the mixture stage exists every domain carries its
natural weight (its share of tokens), sampling rate 1 and one epoch.
"""

from __future__ import annotations

import datetime
import json

MANIFEST_FORMAT = "gristmill-manifest"
MANIFEST_FORMAT_VERSION = 1
TOKEN_ESTIMATE_METHOD = "ceil(utf8_bytes / 4)"


class ManifestError(ValueError):
    """A manifest does not match the documented format."""


def build_manifest(
    shards: list[dict], funnel: dict, *, config_hash: str, inputs: list[str], schema_version: int, version: str
) -> dict:
    shards = sorted(shards, key=lambda s: s["path"])
    domains: dict[str, dict] = {}
    for shard in shards:
        d = domains.setdefault(shard["domain"], {"documents": 0, "tokens_estimate": 0, "bytes": 0, "shards": 0})
        d["documents"] += shard["rows"]
        d["tokens_estimate"] += shard["tokens_estimate"]
        d["bytes"] += shard["bytes"]
        d["shards"] += 1
    total_tokens = sum(d["tokens_estimate"] for d in domains.values())
    for d in domains.values():
        d["target_weight"] = round(d["tokens_estimate"] / total_tokens, 6) if total_tokens else 0.0
        d["sampling_rate"] = 1.0
        d["epochs"] = 1.0
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "gristmill_version": version,
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config_hash": config_hash,
        "schema_version": schema_version,
        "inputs": inputs,
        "token_estimate_method": TOKEN_ESTIMATE_METHOD,
        "totals": {
            "records_read": funnel["records_read"],
            "documents": sum(s["rows"] for s in shards),
            "tokens_estimate": total_tokens,
            "bytes": sum(s["bytes"] for s in shards),
            "shards": len(shards),
        },
        "funnel": "stats/funnel.json",
        "shards": shards,
        "domains": dict(sorted(domains.items())),
    }


_REQUIRED_SHARD = {"path": str, "domain": str, "rows": int, "bytes": int, "tokens_estimate": int}
_REQUIRED_DOMAIN = {"documents": int, "tokens_estimate": int, "target_weight": (int, float), "sampling_rate": (int, float), "epochs": (int, float)}


def validate_manifest(manifest: dict) -> dict:
    """Return the manifest if it is well formed; raise ManifestError naming the bad key."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"format: expected {MANIFEST_FORMAT!r}")
    if manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
        raise ManifestError(f"format_version: expected {MANIFEST_FORMAT_VERSION}, got {manifest.get('format_version')!r}")
    for key in ("config_hash", "shards", "domains", "totals"):
        if key not in manifest:
            raise ManifestError(f"{key}: missing")
    for i, shard in enumerate(manifest["shards"]):
        for key, kind in _REQUIRED_SHARD.items():
            if not isinstance(shard.get(key), kind):
                raise ManifestError(f"shards[{i}].{key}: expected {kind.__name__}, got {shard.get(key)!r}")
        if shard["domain"] not in manifest["domains"]:
            raise ManifestError(f"shards[{i}].domain: {shard['domain']!r} is not in domains")
    for name, domain in manifest["domains"].items():
        for key, kind in _REQUIRED_DOMAIN.items():
            if not isinstance(domain.get(key), kind):
                raise ManifestError(f"domains.{name}.{key}: missing or not a number")
    return manifest


def load_manifest(text: str) -> dict:
    try:
        return validate_manifest(json.loads(text))
    except json.JSONDecodeError as err:
        raise ManifestError(f"not JSON: {err}") from err
