"""The program's final wait (pulumi_mailinfra.program_wait): waits for every Output, fails with the first that
failed, and does not spin while it waits."""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings, stack

from pulumi_mailinfra import program_wait


class State:
    """What the wait reads of the SDK's settings: the outstanding Outputs (a deque in older SDKs, a set in
    newer ones) and their lock."""

    def __init__(self, container: type = collections.deque) -> None:
        self.outputs: Any = container()
        self.lock = threading.Lock()

    def add(self, *outputs: asyncio.Future[Any]) -> None:
        add_one = self.outputs.append if isinstance(self.outputs, collections.deque) else self.outputs.add
        for output in outputs:
            add_one(output)


CONTAINERS = pytest.mark.parametrize("container", [collections.deque, set], ids=["older-sdk", "newer-sdk"])


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts its turns."""

    turns = 0

    def _run_once(self) -> None:
        self.turns += 1
        super()._run_once()  # type: ignore[misc]


def run(coroutine: Awaitable[Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def sdk_style_wait(state: State) -> None:
    """The older SDKs' loop (pulumi/runtime/stack.py before pulumi/pulumi#22411), for comparison."""
    while len(state.outputs) != 0:
        await asyncio.sleep(0)
        with state.lock:
            if len(state.outputs) == 0:
                break
            task = state.outputs.popleft()
        if task.done():
            await task
        else:
            with state.lock:
                state.outputs.append(task)


def turns_to_wait(wait: Callable[[State], Awaitable[None]], container: type = collections.deque
                  ) -> tuple[int, float]:
    """Event-loop turns and seconds `wait` takes for 500 Outputs resolved over 0.3 s (each taken out as the
    SDK's done-callback does)."""

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        state = State(container)
        outputs = [loop.create_future() for _ in range(500)]
        state.add(*outputs)
        for i, output in enumerate(outputs):
            def settle(output: asyncio.Future[Any] = output) -> None:
                output.set_result(1)
                state.outputs.remove(output)
            loop.call_later(0.3 * i / len(outputs), settle)
        started = time.monotonic()
        await wait(state)
        assert all(output.done() for output in outputs) and not state.outputs
        return time.monotonic() - started

    loop = CountingLoop()
    try:
        elapsed = loop.run_until_complete(scenario())
    finally:
        loop.close()
    return loop.turns, elapsed


@CONTAINERS
def test_waits_for_every_output_without_spinning_the_event_loop(container: type) -> None:
    turns, elapsed = turns_to_wait(program_wait.wait_for_outputs, container)
    sdk_turns, _ = turns_to_wait(sdk_style_wait)
    assert 0.29 < elapsed < 0.29 + program_wait.POLL_SECONDS + 0.3
    assert turns < 1_000  # the timers that resolve the Outputs, and a look every 20 ms
    assert sdk_turns > 10 * turns, (turns, sdk_turns)  # the loop this replaces turns all the while


@CONTAINERS
def test_the_first_failed_output_fails_the_wait_while_others_are_still_pending(container: type) -> None:
    async def scenario() -> tuple[float, BaseException | None, int]:
        loop = asyncio.get_running_loop()
        state = State(container)
        slow, failing = loop.create_future(), loop.create_future()
        state.add(slow, failing)
        loop.call_later(0.05, lambda: failing.set_exception(ValueError("apply failed: bad template")))
        loop.call_later(5, lambda: slow.set_result(1))
        started = time.monotonic()
        caught: BaseException | None = None
        try:
            await program_wait.wait_for_outputs(state)
        except ValueError as exc:
            caught = exc
        slow.cancel()
        return time.monotonic() - started, caught, len(state.outputs)

    elapsed, caught, left = run(scenario())
    assert isinstance(caught, ValueError) and "bad template" in str(caught)
    assert elapsed < 0.05 + program_wait.POLL_SECONDS + 0.2  # not after the slow one
    assert left == 1  # the failed one is taken out; the slow one is still outstanding


@CONTAINERS
def test_a_cancelled_output_ends_the_wait_as_in_the_sdk(container: type) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        state = State(container)
        cancelled = loop.create_future()
        state.add(cancelled)
        loop.call_later(0.01, cancelled.cancel)
        await program_wait.wait_for_outputs(state)

    with pytest.raises(asyncio.CancelledError):
        run(scenario())


def test_only_the_two_sdk_waits_it_replaces_are_recognised() -> None:
    async def spins() -> None:  # older SDKs
        outputs: collections.deque[Any] = collections.deque()
        while outputs:
            await asyncio.sleep(0)
            outputs.append(outputs.popleft())

    async def waits_for_all() -> None:  # newer SDKs
        outputs: set[Any] = set()
        await asyncio.wait(list(outputs), return_when=asyncio.FIRST_COMPLETED)

    async def something_else() -> None:
        await asyncio.wait([asyncio.sleep(0)])

    assert program_wait.replaceable(spins, collections.deque())
    assert program_wait.replaceable(waits_for_all, set())
    assert not program_wait.replaceable(spins, set())  # code and container must agree
    assert not program_wait.replaceable(waits_for_all, collections.deque())
    assert not program_wait.replaceable(something_else, collections.deque())
    assert not program_wait.replaceable(something_else, set())
    assert not program_wait.replaceable(len, collections.deque())


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def test_a_program_of_our_resources_waits_for_its_outputs_and_fails_with_a_failed_apply() -> None:
    """Through the SDK's own `run_pulumi_func`, with whichever wait this SDK ends up with."""
    from pulumi_mailinfra import greenarrow

    seen: list[str] = []

    def program() -> None:
        relay = greenarrow.RelayServer("r", name="relay-1", source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                                       destination={"hostname": "b.example", "port": 25})
        relay.name.apply(seen.append)

    def failing_program() -> None:
        program()
        pulumi.Output.from_input("x").apply(lambda _: 1 / 0)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(_Mocks(), project="wait", stack="unit", preview=False)
        loop.run_until_complete(stack.run_pulumi_func(program))
        assert seen == ["relay-1"]
        sdk_wait = getattr(stack.wait_for_rpcs, "__wrapped__", stack.wait_for_rpcs)
        replaced = stack.wait_for_rpcs is not sdk_wait
        assert replaced == program_wait.replaceable(sdk_wait, settings.SETTINGS.outputs)
        assert replaced  # the lowest (3.139) and the newest SDK both have a wait it replaces
        with pytest.raises(ZeroDivisionError):
            loop.run_until_complete(stack.run_pulumi_func(failing_program))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
