"""The one error every config check raises, naming the dotted key."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names the key."""


def require(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}")
