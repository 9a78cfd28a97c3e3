"""Elemta MTA: look-ups, the deployment gate, runbook actions and the `DeliveryCheck` resource (typed: see
`inputs` and docs/reference/elemta/)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .inputs import *  # noqa: F403 - the generated input types are part of this package's API
from .inputs import __all__ as _inputs_all
from .resources import DeliveryCheck

__all__ = [
    *_inputs_all,
    "DeliveryCheck",
    "DeliveryCheckFailed",
    "DeliveryCheckProvider",
    "DeliveryOutcome",
    "ElemtaClient",
    "GateClosed",
    "GateThresholds",
    "check_gate",
    "delete_message",
    "delivery_stats",
    "elemta_client",
    "flush_queue",
    "get_delivery_stats",
    "get_health",
    "get_message",
    "get_message_logs",
    "get_queue_messages",
    "get_queue_stats",
    "get_system_logs",
    "health",
    "message",
    "message_logs",
    "queue_messages",
    "queue_stats",
    "require_healthy",
    "retry_message",
    "run_delivery_check",
    "system_logs",
]

if TYPE_CHECKING:
    from .client import ElemtaClient, elemta_client
    from .delivery import DeliveryCheckFailed, DeliveryOutcome, run_delivery_check
    from .lookups import (
        GateClosed,
        GateThresholds,
        check_gate,
        delete_message,
        delivery_stats,
        flush_queue,
        get_delivery_stats,
        get_health,
        get_message,
        get_message_logs,
        get_queue_messages,
        get_queue_stats,
        get_system_logs,
        health,
        message,
        message_logs,
        queue_messages,
        queue_stats,
        require_healthy,
        retry_message,
        system_logs,
    )
    from .providers import DeliveryCheckProvider

# Loaded on first use: the providers (pydantic models), the API client (httpx) and the look-ups that use
# it. A program that only declares resources imports none of them; the provider process imports the
# providers it is asked to build.
__getattr__ = lazy_exports(
    __name__,
    {
        ".client": ("ElemtaClient", "elemta_client"),
        ".delivery": ("DeliveryCheckFailed", "DeliveryOutcome", "run_delivery_check"),
        ".lookups": (
            "GateClosed",
            "GateThresholds",
            "check_gate",
            "delete_message",
            "delivery_stats",
            "flush_queue",
            "get_delivery_stats",
            "get_health",
            "get_message",
            "get_message_logs",
            "get_queue_messages",
            "get_queue_stats",
            "get_system_logs",
            "health",
            "message",
            "message_logs",
            "queue_messages",
            "queue_stats",
            "require_healthy",
            "retry_message",
            "system_logs",
        ),
        ".providers": ("DeliveryCheckProvider",),
    },
)
