"""A Pulumi program's final wait, without the busy loop of the Python SDK.

Once a program's code has run, the SDK waits for its RPCs and for every outstanding Output. Resources register
as the program's event loop gets to them, so that wait lasts for most of an `up`, and the SDK's costs CPU all the
while, taken from the CLI, the provider and the API on a busy machine:
- SDKs before pulumi/pulumi#22411 (merged 2026-03) cycle through the Outputs with `asyncio.sleep(0)` between
  looks: the event loop spins. Fast `up` at N = 491 on SDK 3.139: ~125,000 turns, 1.2 s of CPU, a third of the
  program's.
- Later SDKs `asyncio.wait` for the first of all outstanding Outputs, again after each one completes: work in
  the number of Outputs at every completion. 5,000 Outputs resolving over 1 s: 0.97 s of CPU.

On either SDK, the first of our resources puts a wait in its place that looks at the Outputs every 20 ms (0.06 s
of CPU for those 5,000). It keeps the SDK's own wait for RPCs (and its error handling), waits for every Output
as before, and still fails the program with the first Output that failed, at most 20 ms after it did. A wait
this module does not recognise is left alone."""

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


def replaceable(sdk_wait: Callable[..., Awaitable[None]], outputs: object) -> bool:
    """True for the two SDK waits this module replaces: Outputs in a deque, cycled with `popleft`; Outputs in a
    set, all passed to `asyncio.wait(..., FIRST_COMPLETED)` at each turn."""
    code = getattr(sdk_wait, "__code__", None)
    if code is None:
        return False
    names = set(code.co_names)
    cycles = "popleft" in names and isinstance(outputs, collections.deque)
    waits_for_all = {"wait", "FIRST_COMPLETED"} <= names and isinstance(outputs, set)
    return cycles or waits_for_all


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
            with state.lock, contextlib.suppress(ValueError, KeyError):  # the SDK's done-callback may be first
                state.outputs.remove(output)
            await output
        if len(finished) < len(outputs):
            await asyncio.sleep(POLL_SECONDS)


def install() -> None:
    """Replace the SDK's program wait where it is one of the two above; once per process."""
    global _install_tried
    if _install_tried:
        return
    with _install_lock:
        if _install_tried:
            return
        _install_tried = True
        from pulumi.runtime import settings, stack

        sdk_wait = stack.wait_for_rpcs
        if not replaceable(sdk_wait, settings.SETTINGS.outputs):
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
