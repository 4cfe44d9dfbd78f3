"""LEDES 1998B formatting and parsing on their own: the standard's sample, amounts and
units from integers, and broken files refused (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections.ledes import money, units
from projections.ledes_parse import LedesFormatError, parse, scaled

GOLDEN = Path(__file__).parents[1] / "golden"


def test_sample_from_the_standard_parses_and_adds_up() -> None:
    [invoice] = parse((GOLDEN / "ledes_98b_sample.txt").read_text())
    assert (invoice.number, invoice.total_minor, len(invoice.lines)) == ("96542", 168_445, 5)
    assert invoice.lines_total_minor == 630_00 + 700_00 + 40_00 + 24_95 + 289_50


def test_money_and_units_are_formatted_from_integers() -> None:
    assert [money(v) for v in (0, 5, -1_000, 123_456)] == ["0.00", "0.05", "-10.00", "1234.56"]
    assert [units(v) for v in (9_000, 10_000, 1_167, 25_000)] == ["0.9", "1.0", "0.1167", "2.5"]
    assert scaled("-70", 2, "x") == -7_000 and scaled("0.25", 4, "x") == 2_500


@pytest.mark.parametrize("damage", [
    lambda t: t.replace("LEDES1998B[]", "LEDES1998[]"),
    lambda t: t.replace("|630|", "|631|"),
    lambda t: t.replace("19990115|L510", "1999-01-15|L510"),
    lambda t: t.replace("|E|1|", "|X|1|"),
    lambda t: t.replace("PARTNR|423-987[]", "PARTNR|423-987", 1),
    lambda t: t.replace("|2.00|-70|", "|2.00|-60|"),
])
def test_parser_refuses_broken_files(damage: object) -> None:
    text = (GOLDEN / "ledes_98b_sample.txt").read_text()
    assert callable(damage)
    with pytest.raises(LedesFormatError):
        parse(damage(text))
