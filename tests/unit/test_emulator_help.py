"""`mailinfra-emulator --help` shows every default, credentials included (issue 25, item 6): a new user pieced
the emulator's credentials together from three places."""

from __future__ import annotations

import pytest

from pulumi_mailinfra.emulator.server import parse_args


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 127.0.0.1)", "(default: 8080)", "(default: admin)", "default: cleanmail-token",
                    "(default 0.5)", "(default: 0)", "(default: warning)", "kept in memory", "default: none"):
        assert default in shown, default
    assert shown.count("(default: admin)") == 2  # the GreenArrow username and password
    defaults = parse_args([])
    assert (defaults.host, defaults.port, defaults.ga_username, defaults.ga_password) == (
        "127.0.0.1", 8080, "admin", "admin")
