"""Exact LEDES 1998B: ASCII by transliteration, the standard's limits, lines that add up.

The exporter reads read-model rows through the ``Reader`` protocol; these tests hand
it rows directly, so every generated invoice is checked without a database (the
end-to-end export through PostgreSQL is in ``test_ledes_export.py``).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.money import billed_hours, time_amount
from projections.ledes import LedesFieldError, export
from projections.ledes_parse import parse, scaled
from projections.ledes_text import TEXT_LIMITS, ascii_text

LAW_FIRM_ID = "24-6789012"


class Rows:
    """Read-model rows held in lists: the ``Reader`` protocol, nothing more."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables

    def select(self, table: str, **equal: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self.tables.get(table, [])
                if all(r[k] == v for k, v in equal.items())]


def invoice_rows(lines: list[dict[str, Any]], *, keeper_name: str = "Pat Partner",
                 title: str = "Acquisition of Widget Co", keeper_class: str = "PARTNR",
                 narrative: str = "Drafted the agreement") -> tuple[Rows, UUID]:
    invoice_id, matter_id, entry_id = uuid4(), uuid4(), uuid4()
    full = []
    for no, line in enumerate(lines, start=1):
        amount = time_amount(line["minutes"], line["rate"])
        full.append({"invoice_id": invoice_id, "line_no": no, "kind": "time",
                     "amount_minor": amount, "written_down_minor": line.get("down", 0),
                     "minutes": line["minutes"], "rate_minor_per_hour": line["rate"],
                     "work_on": date(2026, 3, 2), "task_code": "L120", "expense_code": None,
                     "activity_code": "A103", "timekeeper_id": "PP",
                     "source_id": str(entry_id)})
    total = sum(r["amount_minor"] - r["written_down_minor"] for r in full)
    return Rows({
        "rm_invoices": [{"invoice_id": invoice_id, "status": "issued", "currency": "USD",
                         "matter_id": matter_id, "client_id": uuid4(), "number": "INV-00042",
                         "issued_on": date(2026, 4, 1), "total_minor": total,
                         "period_start": date(2026, 3, 1), "period_end": date(2026, 3, 31)}],
        "rm_matters": [{"matter_id": matter_id, "title": title}],
        "rm_timekeepers": [{"timekeeper_id": "PP", "name": keeper_name, "title": keeper_class}],
        "rm_invoice_lines": full,
        "rm_entries": [{"entry_id": entry_id, "narrative": narrative}],
    }), invoice_id


def assert_adds_up_exactly(text: str, write_downs: list[int]) -> None:
    """Each line: units × unit cost, half-up to the cent, + adjustment = total, and the
    adjustment is the write-down and nothing else; the invoice total is the lines' sum."""
    [invoice] = parse(text)
    assert invoice.total_minor == invoice.lines_total_minor
    for line, down in zip(invoice.lines, write_downs, strict=True):
        units = scaled(line["LINE_ITEM_NUMBER_OF_UNITS"], 4, "units")
        cost = scaled(line["LINE_ITEM_UNIT_COST"], 2, "cost")
        adjustment = scaled(line["LINE_ITEM_ADJUSTMENT_AMOUNT"], 2, "adjustment")
        rounded = int(Fraction(units * cost, 10_000) + Fraction(1, 2))  # half-up, once
        assert adjustment == -down
        assert rounded + adjustment == scaled(line["LINE_ITEM_TOTAL"], 2, "total")


@pytest.mark.parametrize("increment", range(1, 61))
def test_every_increment_adds_up_to_the_cent(increment: int) -> None:
    rates = [1, 29, 33_333, 45_000, 99_999, 125_050]
    lines = [{"minutes": increment * k, "rate": rate, "down": (k * 7) % 50}
             for k, rate in zip((1, 2, 3, 7, 11, 40), rates, strict=True)]
    rows, invoice_id = invoice_rows(lines)
    assert_adds_up_exactly(export(rows, invoice_id, LAW_FIRM_ID).text,
                           [line["down"] for line in lines])


def test_a_write_down_shows_as_itself() -> None:
    # 10 minutes at 333.33/h: the hours are 0.1667 (not a whole number of tenths).
    rows, invoice_id = invoice_rows([{"minutes": 10, "rate": 33_333, "down": 5_000}])
    [invoice] = parse(export(rows, invoice_id, LAW_FIRM_ID).text)
    [line] = invoice.lines
    assert (line["LINE_ITEM_NUMBER_OF_UNITS"], line["LINE_ITEM_UNIT_COST"],
            line["LINE_ITEM_ADJUSTMENT_AMOUNT"]) == ("0.1667", "333.33", "-50.00")
    assert billed_hours(10) == 1_667 and time_amount(10, 33_333) == 5_557


def test_accents_and_other_scripts_become_ascii_never_question_marks() -> None:
    assert ascii_text("Müller, José") == "Muller, Jose"
    assert ascii_text("Überprüfung der Straße") == "Uberprufung der Strasse"
    assert ascii_text("Øre Łódź Æsir œuvre") == "Ore Lodz AEsir oeuvre"
    assert ascii_text("“Quoted” — ‘it’s’ … fine") == '"Quoted" - \'it\'s\' ... fine'
    assert ascii_text("a|b [c]\tline\nbreak") == "a/b (c) line break"
    assert ascii_text("Москва 北京") == "Moskva BeiJing"


@given(st.text(max_size=200))
def test_any_text_becomes_printable_ascii_without_delimiters(text: str) -> None:
    out = ascii_text(text)
    assert out.isascii() and out.isprintable()
    assert not set(out) & {"|", "[", "]"}


names = st.text(st.characters(codec="utf-8", categories=("Lu", "Ll", "Lo", "Zs")),
                min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(names, st.text(max_size=1_500), st.integers(1, 60), st.integers(1, 30),
       st.integers(1, 200_000), st.data())
def test_generated_invoices_export_as_ascii_within_limits_and_add_up(
        name: str, narrative: str, increment: int, count: int, rate: int,
        data: st.DataObject) -> None:
    minutes = increment * count
    down = data.draw(st.integers(0, time_amount(minutes, rate)))
    rows, invoice_id = invoice_rows([{"minutes": minutes, "rate": rate, "down": down}],
                                    keeper_name=name, narrative=narrative)
    ledes = export(rows, invoice_id, LAW_FIRM_ID, truncate=True)
    assert ledes.text.isascii()
    if "?" not in name + narrative:
        assert "?" not in ledes.text  # no character is ever replaced by "?"
    [invoice] = parse(ledes.text)
    for line in invoice.lines:
        assert all(len(line[f]) <= limit for f, limit in TEXT_LIMITS.items())
    assert_adds_up_exactly(ledes.text, [down])


def test_over_long_fields_are_refused_with_their_lines_and_fields() -> None:
    rows, invoice_id = invoice_rows(
        [{"minutes": 60, "rate": 40_000}, {"minutes": 30, "rate": 40_000}],
        keeper_name="Maximiliana Bartholomew-Fitzgerald Smythe", narrative="x" * 1_800)
    with pytest.raises(LedesFieldError) as refused:
        export(rows, invoice_id, LAW_FIRM_ID)
    assert [(p.line_no, p.field) for p in refused.value.problems] == [
        (1, "LINE_ITEM_DESCRIPTION"), (1, "TIMEKEEPER_NAME"),
        (2, "LINE_ITEM_DESCRIPTION"), (2, "TIMEKEEPER_NAME")]
    assert "Smythe" not in refused.value.message  # values are never echoed
    with pytest.raises(LedesFieldError, match="LAW_FIRM_ID: 25 characters"):
        export(*invoice_rows([{"minutes": 6, "rate": 100}]), "1" * 25)


def test_truncate_cuts_and_reports_each_cut() -> None:
    rows, invoice_id = invoice_rows([{"minutes": 60, "rate": 40_000}],
                                    keeper_name="Maximiliana Bartholomew-Fitzgerald Smythe")
    ledes = export(rows, invoice_id, LAW_FIRM_ID, truncate=True)
    assert [str(cut) for cut in ledes.truncations] == [
        "line 1 TIMEKEEPER_NAME: 42 characters, the limit is 30"]
    [invoice] = parse(ledes.text)
    assert invoice.lines[0]["TIMEKEEPER_NAME"] == "Smythe, Maximiliana Bartholome"


def test_what_truncating_cannot_fix_is_refused_even_with_truncate() -> None:
    rows, invoice_id = invoice_rows([{"minutes": 60, "rate": 40_000}], keeper_class="BOSS")
    with pytest.raises(LedesFieldError, match="TIMEKEEPER_CLASSIFICATION"):
        export(rows, invoice_id, LAW_FIRM_ID, truncate=True)
