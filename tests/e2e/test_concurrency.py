"""Concurrency through the real CLI: two stacks of one project deploying at the same time to one emulator, each
with eight throttling rules on one template that the provider's 4 worker threads create and change at once
(domains moving between rules). No lost update, no duplicate, every rule's domains unique per template, and both
stacks' next previews empty."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from mailinfra_cli.devtools import offline_env
from pulumi_mailinfra.emulator import EmulatorServer

pytestmark = pytest.mark.e2e

STACKS = ("dev", "prod")
RULES = 8

PROGRAM = textwrap.dedent('''
    import pulumi
    from pulumi_mailinfra import cleanmail, greenarrow

    stack, rev = pulumi.get_stack(), pulumi.Config().get_int("revision") or 1
    template = greenarrow.ThrottlingTemplate(
        "shared-template", default={"max_concurrent_connections": 4, "max_messages_per_hour": 0})
    for i in range(8):
        domains = [f"d{i}.example.net"]
        # Revision 1: even rules hold an extra domain; revision 2 moves it to the next (odd) rule, the two updates
        # running at once.
        if (rev == 1 and i % 2 == 0) or (rev == 2 and i % 2 == 1):
            domains.append(f"x{i - i % 2}.example.net")
        greenarrow.ThrottlingRule(f"rule-{i}", template_id=template.id, domains=domains,
                                  max_concurrent_connections=i + rev, max_messages_per_hour=0)
    for j in range(3):
        greenarrow.RelayServer(f"relay-{j}", source_ip={"ip": f"192.0.2.{j + 1}", "hostname": "out.example.com"},
                               destination={"hostname": "smtp.example.net", "port": 587 if rev == 1 else 2525},
                               throttle_limits={"max_concurrent_connections": 2, "max_messages_per_hour": 0})
    domain = cleanmail.Domain("domain", name=f"{stack}.concurrency.example", default_language="EN", quarantine=True,
                              retention=True, archive=rev == 2)
    cleanmail.User("user", domain_id=domain.id, email=f"ops@{stack}.concurrency.example")
''')


def run_all(commands: list[list[str]], cwd: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for command in commands]
    results = []
    for command, proc in zip(commands, procs, strict=True):
        output, _ = proc.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(command, proc.returncode, output))
    return results


def test_two_stacks_and_concurrent_rule_updates_lose_nothing(tmp_path: Path) -> None:
    server = EmulatorServer(ga_username="admin", ga_password="conc-pw", cleanmail_tokens=("conc-token",)).start()
    try:
        project = tmp_path / "project"
        project.mkdir()
        (project / "Pulumi.yaml").write_text("name: concurrency\nruntime: python\n")
        (project / "__main__.py").write_text(PROGRAM)
        env = offline_env(tmp_path / "backend", extra={
            "GREENARROW_URL": server.url, "GREENARROW_USERNAME": "admin", "GREENARROW_PASSWORD": "conc-pw",
            "CLEANMAIL_URL": f"{server.url}/cleanmail", "CLEANMAIL_TOKEN": "conc-token",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        pulumi = shutil.which("pulumi", path=env["PATH"]) or "pulumi"
        for stack in STACKS:
            subprocess.run([pulumi, "stack", "init", stack, "--non-interactive"], cwd=project, env=env, check=True,
                           capture_output=True)

        for revision in (1, 2):
            for stack in STACKS:
                subprocess.run([pulumi, "config", "set", "revision", str(revision), "--stack", stack], cwd=project,
                               env=env, check=True, capture_output=True)
            ups = run_all([[pulumi, "up", "--yes", "--skip-preview", "--stack", stack, "--non-interactive",
                            "--parallel", "16"] for stack in STACKS], project, env)
            for stack, up in zip(STACKS, ups, strict=True):
                assert up.returncode == 0, f"{stack} revision {revision}:\n{up.stdout[-4000:]}"

            held = server.greenarrow.inventory()
            templates = [t for t in held["throttling_template"] if t["name"].startswith("shared-template-")]
            assert len(templates) == len(STACKS), templates  # one per stack, autonamed apart
            for template in templates:
                rules = template["rules"]
                assert len(rules) == RULES + 0, rules  # none lost, none doubled
                domains = [d for rule in rules for d in rule["domains"]]
                assert len(domains) == len(set(domains)), domains  # a domain once per template
                by_first = {rule["domains"][0]: sorted(rule["domains"]) for rule in rules}
                for i in range(RULES):
                    moved = (revision == 1 and i % 2 == 0) or (revision == 2 and i % 2 == 1)
                    expected = sorted([f"d{i}.example.net"] + ([f"x{i - i % 2}.example.net"] if moved else []))
                    assert by_first[f"d{i}.example.net"] == expected, (revision, by_first)
                    assert any(r["max_concurrent_connections"] == i + revision for r in rules)
            relays = [r["name"] for r in held["relay_server"]]
            assert len(relays) == 3 * len(STACKS) == len(set(relays)), relays
            cm = server.cleanmail.inventory()
            assert sorted(d["name"] for d in cm["domain"]) == [f"{s}.concurrency.example" for s in STACKS]
            assert len(cm["user"]) == len(STACKS)

        previews = run_all([[pulumi, "preview", "--expect-no-changes", "--stack", stack, "--non-interactive"]
                            for stack in STACKS], project, env)
        assert all(p.returncode == 0 for p in previews), [p.stdout[-2000:] for p in previews]
    finally:
        server.stop()
