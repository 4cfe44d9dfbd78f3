"""The HTTP shell of the ledger: an ASGI app (FastAPI) over the command and read sides.

``create_app`` builds it; ``ledger serve`` runs it with uvicorn. This package and
``ledger.cli`` are the only places that join ``commands`` and ``projections``.
"""

from __future__ import annotations

from ledger.api.app import create_app
from ledger.api.state import ApiConfig

__all__ = ["ApiConfig", "create_app"]
