"""What the app holds for its lifetime: the firm's store, service, keys, access log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from commands.service import BillingService
from ledger.api.access_log import AccessLog, NoAccessLog
from ledger.api.keys import KeyStore
from ledger.domain.policy import today
from ledger.store.firm import FirmStore


@dataclass(frozen=True)
class ApiConfig:
    """Knobs of the HTTP app (the defaults are the production ones)."""

    access_log: bool = True
    access_batch_size: int = 500
    access_linger_seconds: float = 0.05
    follow_projections: bool = False
    readiness_max_lag: int = 1000
    page_limit_max: int = 500
    tls: bool = False
    """Served over TLS: every response then carries ``Strict-Transport-Security``."""
    extra: dict[str, str] = field(default_factory=dict)
    today: Callable[[], date] = today  # the day grants are judged on (UTC)


@dataclass
class ApiState:
    store: FirmStore
    config: ApiConfig
    service: BillingService
    keys: KeyStore
    access: AccessLog | NoAccessLog


def open_state(store: FirmStore, config: ApiConfig) -> ApiState:
    """The app's lifetime state on ``store``, whose location carries the process's pool
    (made by the composition root, ``ledger.bootstrap``): every part borrows from it."""
    store.ensure()
    keys = KeyStore(store)
    keys.ensure()
    access: AccessLog | NoAccessLog = (
        AccessLog(store, batch_size=config.access_batch_size,
                  linger_seconds=config.access_linger_seconds)
        if config.access_log else NoAccessLog())
    return ApiState(store, config, BillingService(store), keys, access)
