"""Hypothesis strategies for every command model: valid-ish and garbage payloads.

Valid-ish payloads are drawn from the model's own JSON schema (so they follow
its patterns, bounds and nested shapes), with ids drawn mostly from a pool of
real ids of the ledger under test, business dates mostly near the seeded data
and sometimes anywhere in 1..9999, and amounts across their whole range.
Garbage payloads are dictionaries of the model's field names and stray keys
with arbitrary JSON values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from hypothesis import strategies as st

from commands import models as m

COMMANDS: dict[str, type[m.Command]] = {
    "set_up_firm": m.SetUpFirm, "register_timekeeper": m.RegisterTimekeeper,
    "onboard_client": m.OnboardClient, "open_matter": m.OpenMatter,
    "close_matter": m.CloseMatter, "set_rate": m.SetRate, "log_time": m.LogTime,
    "correct_time": m.CorrectTime, "void_entry": m.VoidEntry, "log_expense": m.LogExpense,
    "record_recovery": m.RecordRecovery, "grant_access": m.GrantAccess,
    "revoke_access": m.RevokeAccess, "draft_invoice": m.DraftInvoice,
    "write_down": m.WriteDown, "issue_invoice": m.IssueInvoice,
    "void_invoice": m.VoidInvoice, "record_payment": m.RecordPayment,
    "allocate_payment": m.AllocatePayment, "write_off": m.WriteOff,
    "issue_credit_note": m.IssueCreditNote,
}

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      st.text(max_size=30))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _dates() -> st.SearchStrategy[str]:
    near = st.dates(min_value=date(2023, 12, 1), max_value=date(2024, 6, 30))
    return st.one_of(near, near, near, st.dates()).map(date.isoformat)


def _ints(schema: dict[str, Any]) -> st.SearchStrategy[int]:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**63)) + (
        1 if "exclusiveMinimum" in schema else 0))
    high = schema.get("maximum", schema.get("exclusiveMaximum", 2**63) - (
        1 if "exclusiveMaximum" in schema else 0))
    small = st.integers(min_value=low, max_value=min(high, max(low, 0) + 100_000))
    return st.one_of(small, st.integers(min_value=low, max_value=high),
                     st.sampled_from(sorted({low, high})))


Ids = Mapping[str, Sequence[str]]
"""Real ids by field name (``matter_id``…); ``""`` holds all of them."""


def from_schema(schema: dict[str, Any], defs: dict[str, Any], ids: Ids,
                name: str = "") -> st.SearchStrategy[Any]:
    """A strategy for values valid under ``schema`` (the subset pydantic emits)."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[1]], defs, ids, name)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, defs, ids, name) for s in schema[key]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return _ints(schema)
    if kind == "string":
        if schema.get("format") == "uuid":
            pool = list(ids.get(name) or ids.get("") or ())
            real = st.sampled_from(pool) if pool else st.uuids().map(str)
            return st.one_of(real, real, real, st.uuids().map(str))
        if schema.get("format") == "date":
            return _dates()
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0),
                       max_size=min(schema.get("maxLength", 40), 40))
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs, ids, name),
                        min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, defs, ids, k) for k, v in props.items() if k in required},
            optional={k: from_schema(v, defs, ids, k) for k, v in props.items()
                      if k not in required})
    return JSON_VALUE


def valid_ish(model: type[m.Command], ids: Ids) -> st.SearchStrategy[dict[str, Any]]:
    schema = model.model_json_schema()
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        schema, schema.get("$defs", {}), ids)
    return strategy


def garbage(model: type[m.Command]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.one_of(st.sampled_from(sorted(model.model_fields)), st.text(max_size=12))
    return st.dictionaries(keys, JSON_VALUE, max_size=8)


def payloads(model: type[m.Command], ids: Ids) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(valid_ish(model, ids), valid_ish(model, ids), garbage(model))
