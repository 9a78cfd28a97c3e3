"""A Pulumi program's final wait, without the busy loop of older Python SDKs.

Once a program's code has run, the SDK waits for its RPCs and for every outstanding Output. SDKs before
pulumi/pulumi#22411 (merged 2026-03) wait for the Outputs by cycling through them with `asyncio.sleep(0)`
between looks, so the program's event loop spins for as long as any Output is unresolved: for most of an `up`,
since resources register as the program's event loop gets to them. Measured at N = 491 (fast mode, SDK 3.139):
about 125,000 turns of the loop, 1.2 s of CPU, a third of the program's, taken from the CLI, the provider and
the API on a busy machine.

On such an SDK, the first of our resources puts a wait in its place that looks at the Outputs every 20 ms
instead. It keeps the SDK's own wait for RPCs (and its error handling), waits for every Output as before, and
still fails the program with the first Output that failed, at most 20 ms after it did. SDKs with the fix, and
any SDK whose wait this module does not recognise, keep their own."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import Any

POLL_SECONDS = 0.02

_install_lock = threading.Lock()
_install_tried = False


def sdk_busy_waits(sdk_wait: Callable[..., Awaitable[None]], outputs: object) -> bool:
    """True for the SDK wait this module replaces: Outputs kept in a deque, cycled with `popleft`."""
    code = getattr(sdk_wait, "__code__", None)
    return code is not None and "popleft" in code.co_names and isinstance(outputs, collections.deque)


async def wait_for_outputs(state: Any) -> None:
    """Wait until `state.outputs` (guarded by `state.lock`) is empty, as the SDK does, without spinning.

    Outputs that resolve are removed by the SDK itself (each Output's done-callback); one that failed or was
    cancelled stays, and is awaited here so its exception ends the program."""
    while True:
        with state.lock:
            outputs = list(state.outputs)
        if not outputs:
            return
        finished = [output for output in outputs if output.done()]
        for output in finished:
            with state.lock, contextlib.suppress(ValueError):
                state.outputs.remove(output)
            await output
        if len(finished) < len(outputs):
            await asyncio.sleep(POLL_SECONDS)


def install() -> None:
    """Replace the SDK's program wait where it busy-waits; once per process, a no-op afterwards."""
    global _install_tried
    if _install_tried:
        return
    with _install_lock:
        if _install_tried:
            return
        _install_tried = True
        from pulumi.runtime import settings, stack

        sdk_wait = stack.wait_for_rpcs
        if not sdk_busy_waits(sdk_wait, settings.SETTINGS.outputs):
            return

        async def wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
            while True:
                await sdk_wait(await_all_outstanding_tasks=False)  # every RPC, failures raised as the SDK does
                if not await_all_outstanding_tasks:
                    return
                await wait_for_outputs(settings.SETTINGS)
                if not settings._get_rpc_manager().rpcs:  # an Output may have started another RPC
                    return

        wait_for_rpcs.__wrapped__ = sdk_wait  # type: ignore[attr-defined]
        stack.wait_for_rpcs = wait_for_rpcs
