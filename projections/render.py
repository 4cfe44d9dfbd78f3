"""Reports for people: aligned text tables on a terminal, and the client statement
as a self-contained HTML page (inline CSS, no scripts, no external assets) that
a portal can show as is."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ledger.domain.money import format_money

Column = tuple[str, str]  # (header, key)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column],
          money: Sequence[str] = (), currency: str | None = None) -> list[str]:
    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if key in money and isinstance(value, int):
            return format_money(value, row.get("currency") or currency or "USD")
        return "" if value is None else str(value)

    cells = [[cell(r, k) for _, k in columns] for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, (h, _) in enumerate(columns)]
    right = [k in money or k in ("minutes", "entries", "days_overdue", "count", "position")
             for _, k in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w)
                         for v, w, r in zip(values, widths, right, strict=True)).rstrip()

    out = [line([h for h, _ in columns]), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return out


AGING = (("current", "current_minor"), ("1-30", "days_1_30_minor"),
         ("31-60", "days_31_60_minor"), ("61-90", "days_61_90_minor"),
         ("90+", "days_over_90_minor"), ("open", "total_open_minor"))


def provenance(report: dict[str, Any]) -> str:
    when = f"as of {report['as_of']}" if report.get("as_of") else "live"
    return f"({when}, position {report['position']})"


def statement_lines(st: dict[str, Any]) -> list[str]:
    cur = st["currency"] or "USD"
    out = [f"Statement for {st['client']} ({st['client_id']}) "
           f"{st['period']['start']}..{st['period']['end']} {provenance(st)}",
           f"Opening balance {format_money(st['opening_balance_minor'], cur)}"]
    out += table(st["lines"], (("date", "date"), ("kind", "kind"), ("invoice", "number"),
                               ("reference", "reference"), ("amount", "amount_minor"),
                               ("balance", "balance_minor")),
                 money=("amount_minor", "balance_minor"), currency=cur)
    out.append(f"Closing balance {format_money(st['closing_balance_minor'], cur)}")
    aging = st["aging"]
    out.append(f"Aging on {aging['on']} ({aging['aged_by']}):")
    out += table([aging], AGING, money=[k for _, k in AGING], currency=cur)
    out.append(f"Unapplied credit {format_money(aging['unapplied_credit_minor'], cur)}")
    return out


def statement_html(st: dict[str, Any]) -> str:
    cur = st["currency"] or "USD"

    def m(v: int) -> str:
        return html.escape(format_money(v, cur))

    e = html.escape
    rows = "".join(
        f"<tr><td>{e(li['date'])}</td><td>{e(li['kind'].replace('_', ' '))}</td>"
        f"<td>{e(li['number'] or '')}</td><td>{e(li['reference'] or '')}</td>"
        f"<td class=n>{m(li['amount_minor'])}</td><td class=n>{m(li['balance_minor'])}</td></tr>"
        for li in st["lines"])
    aging = st["aging"]
    heads = "".join(f"<th>{e(h)}</th>" for h, _ in AGING)
    cells = "".join(f"<td class=n>{m(aging[k])}</td>" for _, k in AGING)
    known = f"as known on {e(st['as_of'])}" if st.get("as_of") else "as currently known"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>Statement {e(st['period']['start'])} to {e(st['period']['end'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}th,td{padding:.3em .8em;"
        "border-bottom:1px solid #ddd;text-align:left}.n{text-align:right;"
        "font-variant-numeric:tabular-nums}p.s{color:#666}</style></head><body>"
        f"<h1>Statement of account</h1><p>{e(st['client'])}<br>"
        f"Period {e(st['period']['start'])} to {e(st['period']['end'])}, {known}.</p>"
        f"<p>Opening balance <strong>{m(st['opening_balance_minor'])}</strong></p>"
        "<table><thead><tr><th>Date</th><th>Item</th><th>Invoice</th><th>Reference</th>"
        f"<th>Amount</th><th>Balance</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<p>Closing balance <strong>{m(st['closing_balance_minor'])}</strong></p>"
        f"<h2>Open invoices by age on {e(aging['on'])}</h2>"
        f"<table><thead><tr>{heads}</tr></thead><tbody><tr>{cells}</tr></tbody></table>"
        f"<p>Unapplied credit {m(aging['unapplied_credit_minor'])}</p>"
        f"<p class=s>Aged by {e(aging['aged_by'])}. Ledger position {st['position']}.</p>"
        "</body></html>\n")
