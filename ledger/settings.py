"""Settings, read from the environment with the ``LEDGER_`` prefix.

Defaults are chosen so a new user needs nothing configured: no
``LEDGER_DATABASE_URL`` means an embedded PostgreSQL in ``./.ledger/pgdata``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the ledger reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; when unset an embedded server is started.",
    )
    data_dir: Path = Field(
        default=Path(".ledger"),
        description="Folder of the embedded server's data (pgdata lives below it).",
    )
    pgdata: Path | None = Field(
        default=None, description="Embedded server's data folder (default DATA_DIR/pgdata)."
    )
    firm: str = Field(default="default", description="The firm whose ledger is used.")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "WARNING"
    pool_size: int = Field(
        default=10, ge=1, le=100,
        description="Connections in the process's one pool (the --pool-size flag overrides).")
    aggregate_cache: int = Field(
        default=1000, ge=0, le=1_000_000,
        description="Aggregates each process keeps in memory between commands, "
                    "fast-forwarded on load (0 turns the cache off).")
    pool_wait_seconds: float = Field(
        default=3.0, gt=0, le=60,
        description="How long a borrower waits for a busy pool before 503 / exit 2.")

    @property
    def embedded_pgdata(self) -> Path:
        """The embedded server's data folder."""
        return self.pgdata if self.pgdata is not None else self.data_dir / "pgdata"
