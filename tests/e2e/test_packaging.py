"""The package as users get it: the wheel and sdist `python -m build` makes, installed into an empty
virtualenv with no checkout beside it, run the emulator and a stack whose Pulumi.yaml names that
virtualenv, through plain `pulumi` commands and the official Python language host; no command prints a
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mailinfra_cli.devtools import DEFAULT_PASSPHRASE, REPO_ROOT, pulumi_bin_dir

pytestmark = pytest.mark.e2e
USER, PASSWORD = "admin", "wheel-test-pw"

PROGRAM = '''\
import sys

import pulumi
import user_marker  # a package only this project's virtualenv has

import pulumi_mailinfra
from pulumi_mailinfra import greenarrow

relay = greenarrow.RelayServer(
    "relay",
    source_ip={"ip": "192.0.2.10", "hostname": "mail.example.com"},
    destination=greenarrow.DestinationArgs(hostname="smtp.example.net", port=587, username="u", password="p-wheel"),
)
route = greenarrow.Route("route", requested_target_daily_volume=50000)
pulumi.export("prefix", sys.prefix)
pulumi.export("package", pulumi_mailinfra.__file__)
pulumi.export("marker", user_marker.VALUE)
pulumi.export("relay", relay.name)
pulumi.export("recommended", route.recommended_max_daily_volume)
'''


def archive_text(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith(suffix))).decode()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel built from the unpacked sdist: proves the sdist is complete too.
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_wheel_and_sdist_carry_types_licence_and_ranges(dist: Path) -> None:
    wheel = next(dist.glob("pulumi_mailinfra-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {"pulumi_mailinfra/py.typed", "pulumi_mailinfra/pulumi-plugin.json", "pulumi_mailinfra/greenarrow/inputs.py",
            "mailinfra_cli/main.py"} <= names  # pulumi-plugin.json: not a resource plugin to download
    entry_points = archive_text(wheel, ".dist-info/entry_points.txt")
    assert "mailinfra = mailinfra_cli.main:main" in entry_points
    assert not any(n.startswith(("tests/", "examples/", "third_party/")) for n in names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Dist: pulumi<4,>=3.139.0" in metadata
    sdist = next(dist.glob("pulumi_mailinfra-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    assert {"LICENSE", "README.md", "pyproject.toml", "pulumi_mailinfra/py.typed"} <= members


@pytest.fixture(scope="module")
def project(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project outside the checkout, with its own virtualenv holding the wheel and one package of
    the user's."""
    folder = tmp_path_factory.mktemp("user-project")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = next(dist.glob("pulumi_mailinfra-*.whl"))
    python = str(venv / "bin" / "python")
    constraints = str(REPO_ROOT / "constraints" / "lowest.txt")
    install = subprocess.run([python, "-m", "pip", "install", "-qq", "-c", constraints, f"{wheel}[emulator]"],
                             capture_output=True, text=True, timeout=900, check=False, cwd=folder)
    assert install.returncode == 0, install.stdout + install.stderr
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "user_marker.py").write_text("VALUE = 'from the project virtualenv'\n")
    (folder / "Pulumi.yaml").write_text(
        "name: wheel-user\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n")
    (folder / "__main__.py").write_text(PROGRAM)
    return folder


@pytest.fixture
def installed_emulator(project: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [str(project / "venv" / "bin" / "mailinfra-emulator"), "--port", "0", "--state", str(project / "emu.sqlite"),
         "--ga-username", USER, "--ga-password", PASSWORD],
        cwd=project, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_project_with_its_own_virtualenv_runs_the_installed_wheel_without_tracebacks(
    project: Path, installed_emulator: str
) -> None:
    bin_dir = pulumi_bin_dir()
    assert bin_dir, "the e2e tests run the CLI that scripts/build-pulumi.sh builds"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PULUMI_PYTHON_CMD"}}
    env.update({
        "PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),  # no checkout venv on PATH
        "PULUMI_BACKEND_URL": f"file://{project / 'backend'}", "PULUMI_HOME": str(project / "pulumi-home"),
        "PULUMI_CONFIG_PASSPHRASE": DEFAULT_PASSPHRASE, "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "GREENARROW_URL": installed_emulator, "GREENARROW_USERNAME": USER, "GREENARROW_PASSWORD": PASSWORD,
    })
    (project / "backend").mkdir(exist_ok=True)

    def pulumi(*args: str) -> str:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=project, env=env, capture_output=True,
                                text=True, timeout=300, check=False)
        text = result.stdout + result.stderr
        assert result.returncode == 0, text
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
        return text

    api = httpx.Client(base_url=f"{installed_emulator}/ga/api/v3/eng", auth=(USER, PASSWORD))
    pulumi("stack", "init", "dev")
    pulumi("preview")
    pulumi("up", "--yes", "--skip-preview")
    outputs = json.loads(pulumi("stack", "output", "--json"))
    assert Path(outputs["prefix"]).resolve() == (project / "venv").resolve()
    assert Path(outputs["package"]).resolve().is_relative_to((project / "venv").resolve())
    assert outputs["marker"] == "from the project virtualenv"
    assert outputs["recommended"] == 25000
    assert [r["name"] for r in api.get("/relay_servers").json()["data"]["relay_servers"]] == [outputs["relay"]]
    pulumi("preview", "--expect-no-changes")  # fails (exit 255) on any change
    pulumi("refresh", "--yes")
    pulumi("destroy", "--yes")
    assert api.get("/relay_servers").json()["data"]["relay_servers"] == []
