"""Provider settings: per-stack Pulumi config (`mailinfra:<key>`) with environment-variable fallbacks."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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
    ca_bundle: str | None = None  # PEM file of the CAs trusted for https (else the system's / certifi's)


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


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def _flag(raw: Mapping[str, Any], key: str, env: str) -> bool:
    value = (_lookup(raw, key, env) or "").strip().lower()
    if value not in _TRUE | _FALSE:
        raise ConfigurationError(f"{CONFIG_NAMESPACE}:{key} (or {env}) must be true or false, not {value!r}")
    return value in _TRUE


def is_loopback(host: str) -> bool:
    """`localhost` and loopback addresses: traffic that never leaves this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_url(service: str, url: str, allow_insecure_http: bool) -> str:
    """https anywhere; plain http only to this machine (the emulator) unless the user opted in, since every
    request carries the service's credentials."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise ConfigurationError(f"{service} URL {url!r}: expected https://host[:port][/path]")
    if scheme == "http" and not is_loopback(host) and not allow_insecure_http:
        raise ConfigurationError(
            f"{service} URL {url!r}: plain http to {host} would send the {service} credentials unencrypted; "
            f"use https, or set `pulumi config set {CONFIG_NAMESPACE}:allowInsecureHttp true` "
            "(MAILINFRA_ALLOW_INSECURE_HTTP=true) for a trusted network")
    return url.rstrip("/")


def _ca_bundle(raw: Mapping[str, Any]) -> str | None:
    path = _lookup(raw, "caBundle", "MAILINFRA_CA_BUNDLE")
    if path is None:
        return None
    # Relative to the working directory: the project's, for the program and the provider alike.
    full = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(full):
        raise ConfigurationError(f"{CONFIG_NAMESPACE}:caBundle {path!r}: no such file (expected a PEM file of "
                                 "the CA certificates to trust)")
    return full


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
        url=_checked_url(service, url, _flag(raw, "allowInsecureHttp", "MAILINFRA_ALLOW_INSECURE_HTTP")),
        username=_lookup(raw, f"{key}Username", f"{env}_USERNAME"),
        password=_lookup(raw, f"{key}Password", f"{env}_PASSWORD"),
        token=_lookup(raw, f"{key}{token_key}", f"{env}_{token_env}"),
        timeout=float(timeout) if timeout else 30.0,
        max_attempts=int(attempts) if attempts else 6,
        ca_bundle=_ca_bundle(raw),
    )


def settings_problem(service: str, raw_config: Mapping[str, Any] | None) -> str | None:
    """What is wrong with `service`'s URL and TLS settings (a URL not set included), for `check` to report at
    preview, before anything is sent. None when the provider was given no configuration at all (a provider used
    outside the engine)."""
    if raw_config is None:
        return None
    try:
        resolve_settings(service, raw_config)
    except ConfigurationError as exc:
        return str(exc)
    return None


def program_config() -> dict[str, Any]:
    """The `mailinfra:*` stack config as seen from a running Pulumi program (for lookups)."""
    import pulumi

    config = pulumi.Config(CONFIG_NAMESPACE)
    keys = ("greenarrowUrl", "greenarrowUsername", "greenarrowPassword", "cleanmailUrl", "cleanmailToken",
            "elemtaUrl", "elemtaUsername", "elemtaPassword", "elemtaApiKey", "timeoutSeconds", "maxAttempts",
            "caBundle", "allowInsecureHttp")
    return {f"{CONFIG_NAMESPACE}:{k}": config.get(k) for k in keys if config.get(k) is not None}
