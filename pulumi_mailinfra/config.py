"""Provider settings: per-stack Pulumi config (`mailinfra:<key>`) with environment-variable fallbacks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

CONFIG_NAMESPACE = "mailinfra"


@dataclass(frozen=True)
class ServiceSettings:
    """Where a service lives and how to authenticate; never pickled (built in `configure`)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_attempts: int = 6


# service -> (config key prefix, environment variable prefix)
_SERVICE_KEYS = {"greenarrow": ("greenarrow", "GREENARROW"), "cleanmail": ("cleanmail", "CLEANMAIL"),
                 "elemta": ("elemta", "ELEMTA")}
# The secret a service takes as a bearer-style credential: Cleanmail's token, Elemta's API key.
_TOKEN_KEYS = {"cleanmail": ("Token", "TOKEN"), "elemta": ("ApiKey", "API_KEY")}


def _lookup(raw: Mapping[str, Any], key: str, env: str) -> str | None:
    value = raw.get(f"{CONFIG_NAMESPACE}:{key}")
    if value in (None, ""):
        value = os.environ.get(env)
    return None if value in (None, "") else str(value)


def resolve_settings(service: str, raw_config: Mapping[str, Any] | None = None) -> ServiceSettings:
    """Settings for `service` from the stack config (as the dynamic provider's Configure sees it) or env."""
    raw = raw_config or {}
    key, env = _SERVICE_KEYS[service]
    url = _lookup(raw, f"{key}Url", f"{env}_URL")
    if not url:
        raise ConfigurationError(
            f"no {service} URL: set `pulumi config set {CONFIG_NAMESPACE}:{key}Url <url>` or {env}_URL"
        )
    token_key, token_env = _TOKEN_KEYS.get(service, ("Token", "TOKEN"))
    timeout = _lookup(raw, "timeoutSeconds", "MAILINFRA_TIMEOUT_SECONDS")
    attempts = _lookup(raw, "maxAttempts", "MAILINFRA_MAX_ATTEMPTS")
    return ServiceSettings(
        url=url.rstrip("/"),
        username=_lookup(raw, f"{key}Username", f"{env}_USERNAME"),
        password=_lookup(raw, f"{key}Password", f"{env}_PASSWORD"),
        token=_lookup(raw, f"{key}{token_key}", f"{env}_{token_env}"),
        timeout=float(timeout) if timeout else 30.0,
        max_attempts=int(attempts) if attempts else 6,
    )


def program_config() -> dict[str, Any]:
    """The `mailinfra:*` stack config as seen from a running Pulumi program (for lookups)."""
    import pulumi

    config = pulumi.Config(CONFIG_NAMESPACE)
    keys = ("greenarrowUrl", "greenarrowUsername", "greenarrowPassword", "cleanmailUrl", "cleanmailToken",
            "elemtaUrl", "elemtaUsername", "elemtaPassword", "elemtaApiKey", "timeoutSeconds", "maxAttempts")
    return {f"{CONFIG_NAMESPACE}:{k}": config.get(k) for k in keys if config.get(k) is not None}
