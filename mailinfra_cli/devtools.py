"""Run Pulumi stacks offline: locate or build the CLI, start the embedded emulator, drive a project with
the Automation API on a local file backend. Used by the README's main command, the tests and bench/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .pulumi_cli import mode_env

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSPHRASE = "mailinfra-local-passphrase"  # only guards the offline file backend


def pulumi_bin_dir() -> str | None:
    """The folder holding the built CLI, or None when the user's own `pulumi` is on PATH."""
    script = REPO_ROOT / "scripts" / "build-pulumi.sh"
    result = subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True)
    folder = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return folder or None


def offline_env(backend_dir: Path, extra: Mapping[str, str] | None = None, *, fast: bool = False) -> dict[str, str]:
    """Environment for the CLI and its plugins: local file backend (gzip-compressed state), no update checks, and
    the dynamic provider plugin running this very interpreter (which has pulumi_mailinfra installed); with
    `fast`, the engine's no-checkpoint mode."""
    backend_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    path = [str(Path(sys.executable).parent)]
    bin_dir = pulumi_bin_dir()
    if bin_dir:
        path.insert(0, bin_dir)
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    env["PULUMI_CONFIG_PASSPHRASE"] = DEFAULT_PASSPHRASE  # matches the salt in the committed Pulumi.dev.yaml
    env["PULUMI_BACKEND_URL"] = f"file://{backend_dir}"
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    env["PULUMI_PYTHON_CMD"] = sys.executable
    env["PULUMI_HOME"] = str(backend_dir / ".pulumi-home")
    env.setdefault("PULUMI_DIY_BACKEND_NO_LEGACY_WARNING", "true")
    env.update(extra or {})
    return mode_env(env, fast=fast)


def select_stack(
    project_dir: Path, stack_name: str, env: Mapping[str, str], program: Callable[[], None] | None = None
) -> Any:
    """Create or select `stack_name` of the project in `project_dir` (its Pulumi.yaml and stack files); with
    no `program`, the CLI runs the project's own program through the Python language host."""
    import shutil

    from pulumi import automation as auto

    if program is not None:
        isolate_inline_program_channels()
    found = shutil.which("pulumi", path=env.get("PATH"))
    if not found:
        raise RuntimeError("no pulumi CLI: run scripts/build-pulumi.sh or install Pulumi")
    command = auto.PulumiCommand(root=str(Path(found).parent.parent), skip_version_check=True)
    workspace = auto.LocalWorkspace(
        work_dir=str(project_dir),
        program=program,  # None: the project's own program, run by the language host
        env_vars=dict(env),
        pulumi_command=command,
    )
    return auto.Stack.create_or_select(stack_name, workspace)


def isolate_inline_program_channels() -> None:
    """Give each inline program run gRPC channels of its own to the engine and resource monitor.

    The SDK opens them with default options, so every channel in the process shares gRPC's global subchannel
    pool. A run that logs after its CLI has exited (a failed or cancelled `up`) leaves a subchannel to that
    port in backoff; a later CLI that happens to get the same port from the kernel then fails its first call
    at once ("failed to connect to all addresses ... Connection refused") for as long as the old channel lives.
    Idempotent; a no-op on an SDK without the (private) options list."""
    from pulumi.runtime import settings

    options = getattr(settings, "_GRPC_CHANNEL_OPTIONS", None)
    if isinstance(options, list) and _LOCAL_SUBCHANNEL_POOL not in options:
        options.append(_LOCAL_SUBCHANNEL_POOL)


_LOCAL_SUBCHANNEL_POOL = ("grpc.use_local_subchannel_pool", 1)
