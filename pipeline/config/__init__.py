"""Run configuration: YAML mapped onto frozen, validated dataclasses.

`load_config(path)` reads YAML and builds a `GristmillConfig`; every key is
checked against the dataclass fields, so a typo fails with the full dotted key
and the allowed names. Thresholds carry their source in the field comment. Each
stage's section lives in its own module of this package.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from filters.pii import PII_MODES, PiiConfig
from pipeline.config.decontam import DecontamConfig
from pipeline.config.dedup import DedupConfig
from pipeline.config.domains import CLASSIFIER_MODES, DomainClassifierConfig, DomainsConfig
from pipeline.config.ingest import EXTRACTION_BACKENDS, ExtractConfig, IngestConfig, LangIdConfig, S3Config
from pipeline.config.line_dedup import LINE_DEDUP_SCOPES, LineDedupConfig
from pipeline.config.output import OutputConfig
from pipeline.config.quality import QualityConfig
from pipeline.config.safety import BlocklistConfig, SafetyConfig, ToxicityConfig
from pipeline.core.errors import ConfigError
from pipeline.core.errors import require as _require
from pipeline.core.mixture_config import MIXTURE_STRATEGIES, MixtureConfig, MixturePhase

__all__ = [
    "CLASSIFIER_MODES",
    "DEFAULT_CONFIG",
    "EXTRACTION_BACKENDS",
    "PII_MODES",
    "BlocklistConfig",
    "ConfigError",
    "DecontamConfig",
    "DedupConfig",
    "DomainClassifierConfig",
    "DomainsConfig",
    "ExtractConfig",
    "GristmillConfig",
    "IngestConfig",
    "LINE_DEDUP_SCOPES",
    "LangIdConfig",
    "LineDedupConfig",
    "MIXTURE_STRATEGIES",
    "MixtureConfig",
    "MixturePhase",
    "OutputConfig",
    "PiiConfig",
    "QualityConfig",
    "S3Config",
    "SafetyConfig",
    "ToxicityConfig",
    "config_from_dict",
    "load_config",
]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GristmillConfig:
    ingest: IngestConfig = dataclasses.field(default_factory=IngestConfig)
    extract: ExtractConfig = dataclasses.field(default_factory=ExtractConfig)
    langid: LangIdConfig = dataclasses.field(default_factory=LangIdConfig)
    safety: SafetyConfig = dataclasses.field(default_factory=SafetyConfig)
    lines: LineDedupConfig = dataclasses.field(default_factory=LineDedupConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    quality: QualityConfig = dataclasses.field(default_factory=QualityConfig)
    decontam: DecontamConfig = dataclasses.field(default_factory=DecontamConfig)
    output: OutputConfig = dataclasses.field(default_factory=OutputConfig)
    domains: DomainsConfig = dataclasses.field(default_factory=DomainsConfig)
    mixture: MixtureConfig = dataclasses.field(default_factory=MixtureConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        """A stable hash of every setting, written to the manifest."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, default=list)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _build(cls: type, raw: Any, key: str) -> Any:
    """Build dataclass `cls` from a YAML mapping, checking every key and type."""
    if raw is None:
        raw = {}
    _require(isinstance(raw, dict), key or "config", f"must be a mapping, not {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for name, value in raw.items():
        sub = f"{key}.{name}" if key else str(name)
        _require(name in names, sub, f"unknown key; allowed: {', '.join(names)}")
        kwargs[name] = _coerce(hints[name], value, sub)
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{key or 'config'}: {err}") from err


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            _require(type(None) in args, key, "must not be empty")
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is tuple:
        _require(isinstance(value, (list, tuple)), key, f"must be a list, not {value!r}")
        return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _require(isinstance(value, dict), key, f"must be a mapping, not {value!r}")
        return {str(k): _coerce(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        _require(isinstance(value, bool), key, f"must be true or false, not {value!r}")
        return value
    if hint is float:
        _require(
            isinstance(value, (int, float)) and not isinstance(value, bool), key, f"must be a number, not {value!r}"
        )
        return float(value)
    if hint is int:
        _require(isinstance(value, int) and not isinstance(value, bool), key, f"must be an integer, not {value!r}")
        return value
    if hint is str:
        _require(isinstance(value, str), key, f"must be a string, not {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {hint!r}")


def config_from_dict(raw: dict[str, Any]) -> GristmillConfig:
    return _build(GristmillConfig, raw, "")


def load_config(path: str | Path | None = None) -> GristmillConfig:
    """Load a YAML config; None loads the default config (every stage built so far)."""
    if path is None and not DEFAULT_CONFIG.exists():
        return GristmillConfig()  # an installed package without the repo: same values (a test checks)
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    return config_from_dict(raw or {})
