"""Elemta MTA: look-ups, the deployment gate, runbook actions and the `DeliveryCheck` resource (typed: see
`inputs` and docs/reference/elemta/)."""

from .client import ElemtaClient, elemta_client
from .delivery import DeliveryCheckFailed, DeliveryOutcome, run_delivery_check
from .inputs import *  # noqa: F403 - the generated input types are part of this package's API
from .inputs import __all__ as _inputs_all
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
