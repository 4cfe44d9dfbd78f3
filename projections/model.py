"""What a read model is: a name, its tables, and one fold function per event type.

A fold function takes the model's ``Rows``, the event's position, its
originator id and the slim event, and changes rows; it does no I/O. The same
functions run under every driver (live tracked writer, rebuild, as-of replay).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from projections.events import TOPIC_OF, Fact
from projections.rows import Rows, Table

Fold = Callable[[Rows, int, UUID, Any], None]


@dataclass(frozen=True)
class ReadModel:
    """A named read model kept by one tracked projection."""

    name: str
    tables: tuple[Table, ...]
    folds: dict[type[Fact], Fold]
    weight: int = 1
    """Rough share of a rebuild's work (rows written per event): balances the models
    between the processes of a rebuild."""

    @property
    def projection_name(self) -> str:
        """Names the projection and so its tracking table (``<name>_tracking``)."""
        return f"rm_{self.name}"

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(TOPIC_OF[cls] for cls in self.folds)

    def fold_for_topic(self) -> dict[str, Fold]:
        return {TOPIC_OF[cls]: fold for cls, fold in self.folds.items()}

    def new_rows(self, loader: Any = None) -> Rows:
        return Rows({t.name: t for t in self.tables}, loader)


def table(name: str, key: tuple[str, ...], *columns: tuple[str, str],
          final: Callable[[dict[str, Any]], bool] | None = None,
          indexes: tuple[str, ...] = ()) -> Table:
    return Table(name, tuple(columns), key, final, indexes)
