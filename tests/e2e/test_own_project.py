"""A project of one's own, as the template's README says (issue 25, item 6): `pulumi new` from the repository's
template, `requirements.txt` pointed at this clone (until the package is published), `pulumi install` making a
fresh virtualenv, the emulator from that virtualenv, then preview / up / refresh / drift / destroy with the CLI —
and no Python traceback in any output."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from mailinfra_cli.devtools import REPO_ROOT

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    text = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)}:\n{text}"
    assert "Traceback" not in text, text
    return text


def test_a_project_from_the_template(pulumi_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "own-mail"
    env = {**pulumi_env, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    run(["pulumi", "new", str(REPO_ROOT / "templates" / "mailinfra"), "--dir", str(project), "--name", "own-mail",
         "--description", "my mail stack", "--generate-only", "--yes", "--force"], tmp_path, env)
    assert "own-mail" in (project / "README.md").read_text()  # the template's placeholders filled in
    # The README's step until the package is published: requirements.txt pointed at a clone.
    (project / "requirements.txt").write_text(f"pulumi-mailinfra[emulator] @ file://{REPO_ROOT}\n")
    run(["pulumi", "install"], project, env, timeout=900)
    assert (project / "venv" / "bin" / "mailinfra-emulator").exists()

    port = free_port()  # the README's emulator listens on 8080; here a free port, set in the stack's config
    emulator = subprocess.Popen([str(project / "venv" / "bin" / "mailinfra-emulator"), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        run(["pulumi", "stack", "init", "dev"], project, env)
        for key, value in (("greenarrowUrl", f"http://127.0.0.1:{port}"),
                           ("cleanmailUrl", f"http://127.0.0.1:{port}/cleanmail"),
                           ("elemtaUrl", f"http://127.0.0.1:{port}/elemta")):
            run(["pulumi", "config", "set", f"mailinfra:{key}", value, "--stack", "dev"], project, env)
        run(["pulumi", "preview", "--stack", "dev", "--non-interactive"], project, env)
        up = run(["pulumi", "up", "--yes", "--stack", "dev", "--non-interactive"], project, env)
        assert "+ 5 created" in up or "5 created" in up, up
        run(["pulumi", "refresh", "--yes", "--run-program", "--stack", "dev", "--non-interactive"], project, env)
        drift = run([str(project / "venv" / "bin" / "python"), "-m", "mailinfra_cli", "drift", "--stack", "dev"],
                    project, env)
        assert "dev: clean" in drift, drift
        run(["pulumi", "destroy", "--yes", "--stack", "dev", "--non-interactive"], project, env)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
