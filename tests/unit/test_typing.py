"""The typed API users write against: generated from the models (never stale), accepted in both forms
(`XxxArgs` objects and plain dicts), and checked by a type checker the way an editor checks a stack."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from mailinfra_cli.devtools import REPO_ROOT
from pulumi_mailinfra import codegen, greenarrow

PYRIGHT = shutil.which("pyright", path=str(Path(sys.executable).parent))


def pyright(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert PYRIGHT, "pyright is a test dependency (pip install -e .[test])"
    return subprocess.run([PYRIGHT, "--pythonpath", sys.executable, *map(str, paths)], capture_output=True, text=True,
                          cwd=REPO_ROOT, check=False, timeout=300)


def test_generated_types_resources_and_reference_pages_are_current() -> None:
    assert [str(p.relative_to(REPO_ROOT)) for p in codegen.stale(codegen.generate())] == []


def test_every_resource_has_a_reference_page_with_its_inputs_bounds_and_flags() -> None:
    page = (REPO_ROOT / "docs" / "reference" / "greenarrow" / "RelayServer.md").read_text()
    assert "| `destination.port` | `int` | yes |  | >= 1; <= 65535 |" in page
    assert re.search(r"\| `destination.password` \|[^\n]*\| yes \|  \|", page)  # secret, does not replace
    rule = (REPO_ROOT / "docs" / "reference" / "greenarrow" / "ThrottlingRule.md").read_text()
    assert re.search(r"\| `template_id` \|[^\n]*\|  \| yes \|", rule)  # forces replacement
    route = (REPO_ROOT / "docs" / "reference" / "greenarrow" / "Route.md").read_text()
    assert "| `recommended_max_daily_volume` | `int` |" in route and "(computed)" in route
    assert "get_route(name" in route


def test_readme_example_and_every_example_type_check_clean(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "pulumi_mailinfra" in b]
    assert blocks, "the README shows how to use the package"
    snippets = []
    for index, block in enumerate(blocks):
        snippet = tmp_path / f"readme_{index}.py"
        snippet.write_text(block)
        snippets.append(snippet)
    result = pyright(REPO_ROOT / "examples", REPO_ROOT / "__main__.py", *snippets)
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stdout


def test_a_typo_in_a_nested_key_is_reported_by_the_type_checker(tmp_path: Path) -> None:
    program = tmp_path / "typo.py"
    program.write_text(
        "from pulumi_mailinfra import greenarrow\n"
        "greenarrow.RelayServer('r', source_ip={'ip': '192.0.2.1', 'hostname': 'a.example'},\n"
        "                       destination={'hostname': 'b.example', 'prot': 25})\n"
        "greenarrow.ThrottlingTemplate('t', default={'max_concurrent_connections': 1, 'max_messages_per_hour': 0},\n"
        "    rules=[{'domains': ['a.com'], 'max_concurrent_connections': 1, 'max_messages_per_hour': 0,\n"
        "            'throttle_program': {'nme': 'Automatic Backoff'}}])\n"
        "greenarrow.Route('x', requested_target_daily_volume=1, overflow_rout={'id': 1})\n"
    )
    result = pyright(program)
    errors = re.findall(r"typo\.py:(\d+):\d+ - error", result.stdout)
    assert sorted(set(errors)) == ["3", "5", "7"], result.stdout  # each typo, and nothing else


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered[args.name] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> _Mocks:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="typing", stack="unit", preview=False)
    return mocks


@pulumi.runtime.test
def test_args_objects_and_dicts_register_the_same_inputs(mocks: _Mocks) -> None:
    source = {"ip": "192.0.2.1", "hostname": "a.example"}
    destination = {"hostname": "b.example", "port": 25, "username": "u"}
    relays = [
        greenarrow.RelayServer("as-dicts", name="n1", source_ip=source, destination=destination),
        greenarrow.RelayServer("as-kwargs-args", name="n2", source_ip=greenarrow.SourceIpArgs(**source),
                               destination=greenarrow.DestinationArgs(**destination)),
        greenarrow.RelayServer("as-args", greenarrow.RelayServerArgs(
            name="n3", source_ip=greenarrow.SourceIpArgs(**source),
            destination=greenarrow.DestinationArgs(**destination))),
    ]

    def compare(_: Any) -> None:
        shapes = [{k: v for k, v in mocks.registered[name].items() if k not in {"__provider", "name", "declared_by"}}
                  for name in ("as-dicts", "as-kwargs-args", "as-args")]
        assert shapes[0] == shapes[1] == shapes[2]
        assert shapes[0]["destination"]["username"] == "u"

    return pulumi.Output.all(*(relay.id for relay in relays)).apply(compare)


def test_unknown_keyword_is_refused_at_construction(mocks: _Mocks) -> None:
    with pytest.raises(TypeError, match=r"unexpected inputs \['colour'\]"):
        greenarrow.Route("r", requested_target_daily_volume=1, colour="red")  # type: ignore[call-overload]


@pulumi.runtime.test
def test_names_scoped_to_a_parent_may_repeat_across_parents(mocks: _Mocks) -> None:
    from pulumi_mailinfra import cleanmail

    domains = [cleanmail.Domain(f"d{i}", name=f"d{i}.example.com", default_language="EN", quarantine=True,
                                retention=False, archive=False) for i in range(2)]
    policies = [cleanmail.DomainPolicy(f"p{i}", domain_id=d.id, name="executives", quarantine=True,
                                       retention=False, incoming=True) for i, d in enumerate(domains)]
    return pulumi.Output.all(*(p.id for p in policies)).apply(lambda ids: None if len(set(ids)) == 2 else 1 / 0)
