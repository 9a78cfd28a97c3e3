"""TLS: certificates verified by default, `mailinfra:caBundle` for a private CA, plain http refused off this machine
unless `mailinfra:allowInsecureHttp` — against the emulator served over HTTPS with a certificate made here."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_mailinfra.config import ServiceSettings, resolve_settings, settings_problem
from pulumi_mailinfra.emulator.server import EmulatorServer
from pulumi_mailinfra.errors import ApiError, ConfigurationError
from pulumi_mailinfra.greenarrow.client import GreenArrowClient
from pulumi_mailinfra.greenarrow.providers import RelayServerProvider
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER
from tests.provider.harness import Engine

OPENSSL = shutil.which("openssl") or "openssl"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", f"{name}.key",
             "-out", f"{name}.pem", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA, a server certificate it signed for 127.0.0.1, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("pki")
    make_ca(folder, "ca")
    make_ca(folder, "other-ca")
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                       "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=folder)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-out", "server.pem", "-extfile", "server.ext", cwd=folder)
    return folder


@pytest.fixture(scope="module")
def https_url(pki: Path) -> Iterator[str]:
    server = EmulatorServer(tls=(str(pki / "server.pem"), str(pki / "server.key")), ga_username=GA_USER,
                            ga_password=GA_PASSWORD, cleanmail_tokens=(CM_TOKEN,))
    with server:
        assert server.url.startswith("https://127.0.0.1:")
        yield server.url


def settings(url: str, **config: str) -> ServiceSettings:
    raw = {"mailinfra:greenarrowUrl": url, "mailinfra:greenarrowUsername": GA_USER,
           "mailinfra:greenarrowPassword": GA_PASSWORD, **{f"mailinfra:{k}": v for k, v in config.items()}}
    return resolve_settings("greenarrow", raw)


def test_an_untrusted_certificate_fails_at_once_naming_the_setting(https_url: str) -> None:
    client = GreenArrowClient(settings(https_url))
    started = time.monotonic()
    with pytest.raises(ApiError) as raised:
        client.list_all("/relay_servers", "relay_servers").__next__()
    assert time.monotonic() - started < 2, "a rejected certificate is not transient: no retries"
    assert raised.value.code == "tls_verification_failed"
    assert "certificate" in str(raised.value) and "mailinfra:caBundle" in str(raised.value)


def test_a_certificate_from_another_ca_is_rejected(https_url: str, pki: Path) -> None:
    client = GreenArrowClient(settings(https_url, caBundle=str(pki / "other-ca.pem")))
    with pytest.raises(ApiError, match="not accepted"):
        client.request("GET", "/ga/api/v3/eng/relay_servers")


def test_the_ca_bundle_makes_https_work_end_to_end(https_url: str, pki: Path) -> None:
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    provider = RelayServerProvider()
    provider.configure(ConfigureRequest(Config({
        "mailinfra:greenarrowUrl": https_url, "mailinfra:greenarrowUsername": GA_USER,
        "mailinfra:greenarrowPassword": GA_PASSWORD, "mailinfra:caBundle": str(pki / "ca.pem")}, "test")))
    engine = Engine(provider).create({
        "name": "tls-relay", "source_ip": {"ip": "192.0.2.10", "hostname": "tls.example.com"},
        "destination": {"hostname": "smtp.example.net", "port": 587},
        "throttle_limits": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}})
    assert engine.outputs["name"] == "tls-relay"
    engine.refresh()
    provider.delete(engine.id, engine.outputs)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:8080/x", "http://[::1]:9",
                                 "http://127.3.4.5", "https://mail.example.com"])
def test_loopback_http_and_any_https_are_accepted(url: str) -> None:
    assert settings(url).url == url.rstrip("/")


def test_plain_http_to_another_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigurationError, match="allowInsecureHttp") as refused:
        settings("http://mail.example.com:8080")
    assert "unencrypted" in str(refused.value)
    assert settings("http://mail.example.com:8080", allowInsecureHttp="true").url == "http://mail.example.com:8080"
    with pytest.raises(ConfigurationError, match="true or false"):
        settings("http://mail.example.com", allowInsecureHttp="maybe")
    with pytest.raises(ConfigurationError, match="expected https://"):
        settings("ftp://mail.example.com")


def test_the_refusal_shows_at_check_before_anything_is_sent() -> None:
    raw = {"mailinfra:greenarrowUrl": "http://10.1.2.3:8080", "mailinfra:greenarrowUsername": GA_USER,
           "mailinfra:greenarrowPassword": GA_PASSWORD}
    assert "allowInsecureHttp" in (settings_problem("greenarrow", raw) or "")
    assert settings_problem("greenarrow", {**raw, "mailinfra:allowInsecureHttp": "true"}) is None
    assert "no greenarrow URL: set `pulumi config set mailinfra:greenarrowUrl" in (settings_problem("greenarrow", {})
                                                                                   or "")  # refused at preview
    assert settings_problem("greenarrow", None) is None  # a provider given no configuration (outside the engine)

    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    provider = RelayServerProvider()
    provider.configure(ConfigureRequest(Config(raw, "test")))
    checked = provider.check({}, {"name": "r", "source_ip": {"ip": "192.0.2.1", "hostname": "a.example.com"},
                                  "destination": {"hostname": "b.example.com", "port": 25},
                                  "throttle_limits": {"max_concurrent_connections": 0, "max_messages_per_hour": 0}})
    assert [f.reason for f in checked.failures if "provider settings" in f.reason], checked.failures


def test_a_missing_or_broken_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such file"):
        settings("https://mail.example.com", caBundle=str(tmp_path / "absent.pem"))
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="not a PEM file"):
        GreenArrowClient(settings("https://mail.example.com", caBundle=str(broken)))
