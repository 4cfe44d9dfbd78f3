"""Every read model, by name (the names ``ledger projections rebuild NAME`` takes)."""

from __future__ import annotations

from projections.folds_audit import AUDIT
from projections.folds_directory import DIRECTORY
from projections.folds_money import BALANCES, STATEMENTS
from projections.folds_work import WIP
from projections.model import ReadModel

MODELS: dict[str, ReadModel] = {m.name: m for m in (DIRECTORY, BALANCES, STATEMENTS, WIP, AUDIT)}


def models_named(names: list[str] | None) -> list[ReadModel]:
    """The models with these names (all when None); an unknown name is an error."""
    from ledger.errors import LedgerError

    if not names:
        return list(MODELS.values())
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise LedgerError(f"no read model named {', '.join(unknown)}; known: "
                          f"{', '.join(MODELS)}", field="name")
    return [MODELS[n] for n in names]
