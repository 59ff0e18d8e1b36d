"""`manifest.json`: what the training launcher reads (shards, rows, tokens, domains, mixture).

`build_manifest` is pure; `validate_manifest` checks every documented key, its type and the
mixture's arithmetic, naming the JSON path of the first problem
(`mixture.phases[1].domains.news.weight: must be a number`). The format is documented key by key
in docs/manifest.md.

Versioning: `format_version` changes whenever a key is removed or changes meaning; adding a key
does not change it and readers ignore keys they do not know. A reader refuses a newer version
(upgrade gristmill) and version 1 (written before mixtures existed; rerun to rebuild it).
"""

from __future__ import annotations

import datetime
import json
import math

from pipeline.core.layout import FUNNEL
from pipeline.core.mixture import DomainCount, MixturePlan, plan_mixture
from pipeline.core.mixture_config import MIXTURE_AXES, MixtureConfig

MANIFEST_FORMAT = "gristmill-manifest"
MANIFEST_FORMAT_VERSION = 2
TOKEN_ESTIMATE_METHOD = "ceil(utf8_bytes / 4)"


class ManifestError(ValueError):
    """A manifest does not match the documented format."""


def domain_counts(shards: list[dict]) -> dict[str, DomainCount]:
    """Documents and estimated tokens per domain, summed over the shards."""
    counts: dict[str, DomainCount] = {}
    for shard in shards:
        before = counts.get(shard["domain"], DomainCount(documents=0, tokens=0))
        counts[shard["domain"]] = DomainCount(
            documents=before.documents + shard["rows"], tokens=before.tokens + shard["tokens_estimate"]
        )
    return dict(sorted(counts.items()))


def build_manifest(
    shards: list[dict],
    funnel: dict,
    *,
    config_hash: str,
    inputs: list[str],
    schema_version: int,
    version: str,
    mixture: MixtureConfig,
    domain_taxonomy_version: int | None = None,
) -> dict:
    """The manifest for `shards`; raises pipeline.core.mixture.MixtureError if `mixture` cannot be drawn."""
    shards = sorted(shards, key=lambda s: s["path"])
    plan = plan_mixture(domain_counts(shards), mixture)
    domains: dict[str, dict] = {}
    for shard in shards:
        d = domains.setdefault(shard["domain"], {"documents": 0, "tokens_estimate": 0, "bytes": 0, "shards": 0})
        d["documents"] += shard["rows"]
        d["tokens_estimate"] += shard["tokens_estimate"]
        d["bytes"] += shard["bytes"]
        d["shards"] += 1
    for name, d in domains.items():
        # the whole schedule at once: share of all tokens drawn, and passes over the domain
        d["target_weight"] = plan.total_tokens(name) / plan.token_budget if plan.token_budget else 0.0
        d["sampling_rate"] = plan.total_epochs[name]
        d["epochs"] = plan.total_epochs[name]
    return {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "gristmill_version": version,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "config_hash": config_hash,
        "schema_version": schema_version,
        "domain_taxonomy_version": domain_taxonomy_version,
        "mixture_axis": mixture.axis,
        "inputs": inputs,
        "token_estimate_method": TOKEN_ESTIMATE_METHOD,
        "totals": {
            "records_read": funnel["records_read"],
            "documents": sum(s["rows"] for s in shards),
            "tokens_estimate": sum(s["tokens_estimate"] for s in shards),
            "bytes": sum(s["bytes"] for s in shards),
            "shards": len(shards),
        },
        "funnel": FUNNEL,
        "shards": shards,
        "domains": dict(sorted(domains.items())),
        "mixture": mixture_section(plan, mixture),
    }


def mixture_section(plan: MixturePlan, config: MixtureConfig) -> dict:
    natural = plan.natural_weights()
    return {
        "token_estimate_method": TOKEN_ESTIMATE_METHOD,
        "strategy": config.strategy,
        "temperature": config.temperature if config.strategy == "temperature" else None,
        "token_budget": plan.token_budget,
        "max_epochs": config.max_epochs,
        "max_epochs_per_domain": dict(sorted(config.max_epochs_per_domain.items())),
        "domains": {
            name: {"documents": d.documents, "tokens_estimate": d.tokens, "natural_weight": natural[name]}
            for name, d in plan.domains.items()
        },
        "phases": [
            {
                "name": phase.name,
                "strategy": phase.strategy,
                "temperature": phase.temperature,
                "token_budget": phase.token_budget,
                "domains": {
                    name: {"weight": d.weight, "sampling_rate": d.sampling_rate, "epochs": d.epochs, "tokens": d.tokens}
                    for name, d in phase.domains.items()
                },
            }
            for phase in plan.phases
        ],
        "total_epochs": dict(plan.total_epochs),
    }


def load_manifest(text: str) -> dict:
    try:
        return validate_manifest(json.loads(text))
    except json.JSONDecodeError as err:
        raise ManifestError(f"not JSON: {err}") from err


# Checking -------------------------------------------------------------------------------------

_WEIGHT_TOLERANCE = 1e-6
_INT = "an integer"
_NUM = "a number"
_STR = "a string"


def validate_manifest(manifest: dict) -> dict:
    """Return the manifest if it is well formed; raise ManifestError naming the JSON path."""
    _check(isinstance(manifest, dict), "manifest", "must be a JSON object")
    _check(
        manifest.get("format") == MANIFEST_FORMAT,
        "format",
        f"must be {MANIFEST_FORMAT!r}, not {manifest.get('format')!r}",
    )
    version = manifest.get("format_version")
    _check(_is_int(version), "format_version", f"must be an integer, not {version!r}")
    _check(
        version <= MANIFEST_FORMAT_VERSION,
        "format_version",
        f"{version} is newer than this gristmill reads ({MANIFEST_FORMAT_VERSION}); upgrade gristmill",
    )
    _check(
        version == MANIFEST_FORMAT_VERSION,
        "format_version",
        f"{version} predates mixtures (version {MANIFEST_FORMAT_VERSION}); "
        "rebuild it: rerun the pipeline with --overwrite",
    )
    for key in ("gristmill_version", "created_at", "config_hash", "token_estimate_method", "funnel"):
        _field(manifest, key, _STR, key)
    _field(manifest, "schema_version", _INT, "schema_version")
    axis = manifest.get("mixture_axis", "domain")  # added within v2: absent means domain tags
    _check(axis in MIXTURE_AXES, "mixture_axis", f"must be one of {', '.join(MIXTURE_AXES)}, not {axis!r}")
    taxonomy = manifest.get("domain_taxonomy_version")  # added within v2: absent in early v2 files
    _check(
        taxonomy is None or _is_int(taxonomy),
        "domain_taxonomy_version",
        f"must be an integer or null, not {taxonomy!r}",
    )
    inputs = _field(manifest, "inputs", "a list", "inputs")
    for i, item in enumerate(inputs):
        _check(isinstance(item, str), f"inputs[{i}]", "must be a string")
    totals = _field(manifest, "totals", "an object", "totals")
    for key in ("records_read", "documents", "tokens_estimate", "bytes", "shards"):
        _field(totals, key, _INT, f"totals.{key}")
    shards = _field(manifest, "shards", "a list", "shards")
    domains = _field(manifest, "domains", "an object", "domains")
    for i, shard in enumerate(shards):
        _check(isinstance(shard, dict), f"shards[{i}]", "must be an object")
        for key in ("path", "domain"):
            _field(shard, key, _STR, f"shards[{i}].{key}")
        for key in ("rows", "bytes", "tokens_estimate"):
            _field(shard, key, _INT, f"shards[{i}].{key}")
        _check(shard["domain"] in domains, f"shards[{i}].domain", f"{shard['domain']!r} is not in domains")
    _check(totals["shards"] == len(shards), "totals.shards", f"is {totals['shards']} but shards lists {len(shards)}")
    for key, field in (("documents", "rows"), ("tokens_estimate", "tokens_estimate"), ("bytes", "bytes")):
        summed = sum(s[field] for s in shards)
        _check(totals[key] == summed, f"totals.{key}", f"is {totals[key]} but the shards sum to {summed}")
    counts = domain_counts(shards)
    for name, domain in domains.items():
        path = f"domains.{name}"
        _check(isinstance(domain, dict), path, "must be an object")
        for key in ("documents", "tokens_estimate", "bytes", "shards"):
            _field(domain, key, _INT, f"{path}.{key}")
        for key in ("target_weight", "sampling_rate", "epochs"):
            _field(domain, key, _NUM, f"{path}.{key}")
        _check(name in counts, path, "has no shards")
        _check(
            domain["documents"] == counts[name].documents,
            f"{path}.documents",
            f"is {domain['documents']} but its shards hold {counts[name].documents}",
        )
        _check(
            domain["tokens_estimate"] == counts[name].tokens,
            f"{path}.tokens_estimate",
            f"is {domain['tokens_estimate']} but its shards hold {counts[name].tokens}",
        )
    _validate_mixture(_field(manifest, "mixture", "an object", "mixture"), domains)
    return manifest


def _validate_mixture(mixture: dict, domains: dict) -> None:
    _field(mixture, "token_estimate_method", _STR, "mixture.token_estimate_method")
    _field(mixture, "strategy", _STR, "mixture.strategy")
    _field(mixture, "temperature", _NUM, "mixture.temperature", nullable=True)
    budget = _field(mixture, "token_budget", _INT, "mixture.token_budget")
    max_epochs = _field(mixture, "max_epochs", _NUM, "mixture.max_epochs")
    overrides = _field(mixture, "max_epochs_per_domain", "an object", "mixture.max_epochs_per_domain")
    for name in overrides:
        _field(overrides, name, _NUM, f"mixture.max_epochs_per_domain.{name}")
    mixture_domains = _field(mixture, "domains", "an object", "mixture.domains")
    _same_domains(mixture_domains, domains, "mixture.domains", "domains")
    for name, domain in mixture_domains.items():
        path = f"mixture.domains.{name}"
        _check(isinstance(domain, dict), path, "must be an object")
        _field(domain, "documents", _INT, f"{path}.documents")
        tokens = _field(domain, "tokens_estimate", _INT, f"{path}.tokens_estimate")
        _field(domain, "natural_weight", _NUM, f"{path}.natural_weight")
        _check(
            tokens == domains[name]["tokens_estimate"],
            f"{path}.tokens_estimate",
            f"is {tokens} but domains.{name} has {domains[name]['tokens_estimate']}",
        )
    phases = _field(mixture, "phases", "a list", "mixture.phases")
    _check(len(phases) >= 1, "mixture.phases", "must hold at least one phase")
    drawn = dict.fromkeys(mixture_domains, 0)
    for i, phase in enumerate(phases):
        path = f"mixture.phases[{i}]"
        _check(isinstance(phase, dict), path, "must be an object")
        _field(phase, "name", _STR, f"{path}.name")
        _field(phase, "strategy", _STR, f"{path}.strategy")
        _field(phase, "temperature", _NUM, f"{path}.temperature", nullable=True)
        phase_budget = _field(phase, "token_budget", _INT, f"{path}.token_budget")
        draws = _field(phase, "domains", "an object", f"{path}.domains")
        _same_domains(draws, mixture_domains, f"{path}.domains", "mixture.domains")
        for name, draw in draws.items():
            at = f"{path}.domains.{name}"
            _check(isinstance(draw, dict), at, "must be an object")
            for key in ("weight", "sampling_rate", "epochs"):
                _check(_field(draw, key, _NUM, f"{at}.{key}") >= 0, f"{at}.{key}", "must be >= 0")
            _check(_field(draw, "tokens", _INT, f"{at}.tokens") >= 0, f"{at}.tokens", "must be >= 0")
            available = mixture_domains[name]["tokens_estimate"]
            drawn[name] += draw["tokens"]
            _close(
                draw["sampling_rate"],
                _ratio(draw["tokens"], available),
                f"{at}.sampling_rate",
                "tokens / tokens_estimate",
            )
            _close(
                draw["epochs"], _ratio(drawn[name], available), f"{at}.epochs", "tokens drawn so far / tokens_estimate"
            )
        if phase_budget:
            _close(math.fsum(d["weight"] for d in draws.values()), 1.0, f"{path}.domains", "weights summing to 1")
        summed = sum(d["tokens"] for d in draws.values())
        _check(
            summed == phase_budget,
            f"{path}.domains",
            f"tokens sum to {summed} but the phase's token_budget is {phase_budget}",
        )
    phase_total = sum(p["token_budget"] for p in phases)
    _check(phase_total == budget, "mixture.token_budget", f"is {budget} but the phases' budgets sum to {phase_total}")
    total_epochs = _field(mixture, "total_epochs", "an object", "mixture.total_epochs")
    _same_domains(total_epochs, mixture_domains, "mixture.total_epochs", "mixture.domains")
    for name, epochs in total_epochs.items():
        at = f"mixture.total_epochs.{name}"
        _field(total_epochs, name, _NUM, at)
        available = mixture_domains[name]["tokens_estimate"]
        _close(epochs, _ratio(drawn[name], available), at, "all tokens drawn / tokens_estimate")
        limit = overrides.get(name, max_epochs)
        # whole-token apportionment may add one token beyond the limit
        _check(
            epochs <= limit + _ratio(1, available) + _WEIGHT_TOLERANCE,
            at,
            f"{epochs:g} exceeds the domain's max_epochs {limit:g}",
        )
        _close(domains[name]["epochs"], epochs, f"domains.{name}.epochs", f"mixture.total_epochs.{name}")
        _close(domains[name]["sampling_rate"], epochs, f"domains.{name}.sampling_rate", f"mixture.total_epochs.{name}")
        _close(
            domains[name]["target_weight"],
            _ratio(drawn[name], budget),
            f"domains.{name}.target_weight",
            "its tokens drawn / mixture.token_budget",
        )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is(value: object, kind: str) -> bool:
    if kind == _INT:
        return _is_int(value)
    if kind == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == _STR:
        return isinstance(value, str)
    return isinstance(value, {"a list": list, "an object": dict}[kind])


def _field(parent: dict, key: str, kind: str, path: str, *, nullable: bool = False):
    _check(key in parent, path, "missing")
    value = parent[key]
    _check(
        (nullable and value is None) or _is(value, kind),
        path,
        f"must be {kind}{' or null' if nullable else ''}, not {value!r}",
    )
    return value


def _same_domains(found: dict, expected: dict, path: str, expected_path: str) -> None:
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    _check(
        not missing and not extra,
        path,
        f"must name the domains of {expected_path}: missing {missing}, unexpected {extra}",
    )


def _close(value: float, expected: float, path: str, meaning: str) -> None:
    _check(
        abs(value - expected) <= _WEIGHT_TOLERANCE * max(1.0, abs(expected)),
        path,
        f"is {value!r} but should equal {meaning} ({expected!r})",
    )


def _check(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ManifestError(f"{path}: {message}")
