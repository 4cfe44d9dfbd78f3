"""LEDES text: ASCII by transliteration, and the standard's field limits.

A LEDES 1998B file is ASCII, and e-billing systems reject a file with a field over
its limit, so the exporter writes every text field through :func:`ascii_text` and
checks every field against :data:`TEXT_LIMITS` and :data:`AMOUNT_DIGITS` before
anything is written.

Transliteration, in this order (never ``?``):

1. the table :data:`NO_DECOMPOSITION` for letters and punctuation that Unicode does
   not decompose (``ß``→``ss``, ``Ø``→``O``, ``Ł``→``L``, ``Æ``→``AE``, curly quotes
   → ``'`` and ``"``, dashes → ``-``, ``…`` → ``...``);
2. NFKD, dropping the combining marks it separates (``Müller, José`` → ``Muller,
   Jose``; ``ﬁ`` → ``fi``);
3. for what is still not ASCII (other scripts: ``Москва``, ``北京``), the
   ``anyascii`` package's romanisation (``Moskva``, ``BeiJing``); a character it
   cannot spell (it would answer ``?``) is dropped;
4. control characters dropped, runs of whitespace made one space, and the format's
   delimiters replaced (``|`` → ``/``, ``[`` → ``(``, ``]`` → ``)``), since a field
   may not contain them.

Limits are the strictest of the implementations (DOMAIN.md §1): identifiers and
codes 20 characters, ``TIMEKEEPER_NAME`` 30, descriptions 1,024 (Brightflag's);
``INVOICE_TOTAL`` 12 digits before the point, every other amount 10.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

NO_DECOMPOSITION: dict[int, str] = {ord(k): v for k, v in {
    "ß": "ss", "ẞ": "SS", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d",
    "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe",
    "ı": "i", "Ħ": "H", "ħ": "h", "ŀ": "l", "Ŀ": "L",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
    "‟": '"', "″": '"', "«": '"', "»": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "•": "*", "·": ".", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "€": "EUR", "£": "GBP", "¥": "JPY", "©": "(c)", "®": "(R)", "™": "TM", "§": "S.",
    "°": " deg", "×": "x", "÷": "/",
}.items()}
"""What NFKD leaves alone, spelled in ASCII (applied before NFKD)."""

DELIMITERS = str.maketrans({"|": "/", "[": "(", "]": ")"})

TEXT_LIMITS: dict[str, int] = {
    "INVOICE_NUMBER": 20, "CLIENT_ID": 20, "LAW_FIRM_MATTER_ID": 20,
    "INVOICE_DESCRIPTION": 1024, "LINE_ITEM_NUMBER": 20, "LINE_ITEM_TASK_CODE": 20,
    "LINE_ITEM_EXPENSE_CODE": 20, "LINE_ITEM_ACTIVITY_CODE": 20, "TIMEKEEPER_ID": 20,
    "LINE_ITEM_DESCRIPTION": 1024, "LAW_FIRM_ID": 20, "TIMEKEEPER_NAME": 30,
    "CLIENT_MATTER_ID": 20,
}
"""Longest value of each text field, in characters."""

AMOUNT_DIGITS: dict[str, int] = {
    "INVOICE_TOTAL": 12, "LINE_ITEM_NUMBER_OF_UNITS": 10, "LINE_ITEM_ADJUSTMENT_AMOUNT": 10,
    "LINE_ITEM_TOTAL": 10, "LINE_ITEM_UNIT_COST": 10,
}
"""Most digits before the decimal point of each number field."""

CLASSIFICATIONS = frozenset({
    "ADJSTR", "ADJSMT", "ANALST", "ARBITR", "ASSOC", "TRANEE", "AUDITR", "CLKSEC", "CONSLT",
    "TEMPAT", "TEMPOS", "CSTCNS", "CTRPTR", "DSCATT", "DSCPMG", "DSCANJ", "DSCANS", "DOCCDR",
    "DOCRAT", "DOCRNA", "EVDEVL", "EXPERT", "FLTFEE", "FORANL", "HLNLPF", "INVSTG", "IPSVPV",
    "IPAGNT", "LGLAST", "LGLINT", "LGPRMG", "LIBRRN", "MEDITR", "MDRCRV", "OFCOUN", "NBOTHR",
    "PARALG", "PARTNR", "RSRCHR", "RSPROF", "SECNDE", "SPAGNT", "SOLDSG", "STFATT", "STFCNS",
    "TPADMN", "TRAINR", "TRNDEV", "TRNFAG", "TRANSL", "VIDOGR",
})
"""The LEDES timekeeper classifications (``TIMEKEEPER_CLASSIFICATION``)."""


def ascii_text(text: str) -> str:
    """``text`` as printable ASCII without the format's delimiters (see module doc)."""
    text = unicodedata.normalize("NFKD", text.translate(NO_DECOMPOSITION))
    text = "".join(c for c in text if not unicodedata.combining(c))
    if not text.isascii():
        text = "".join(c if c.isascii() else _romanised(c) for c in text)
    text = "".join(c if c.isprintable() or c.isspace() else " " for c in text)
    return " ".join(text.translate(DELIMITERS).split())


def _romanised(char: str) -> str:
    """``anyascii``'s spelling of one character; nothing where it only knows ``?``."""
    spelled: str = anyascii(char)
    return "" if "?" in spelled else spelled


@dataclass(frozen=True)
class FieldProblem:
    """One field of one line that the standard does not allow as it stands."""

    line_no: int
    field: str
    why: str
    fixable: bool  # by truncating to the limit
    invoice: str = ""  # the invoice's number, in a file of several invoices

    def __str__(self) -> str:
        where = f"{self.invoice} line {self.line_no}" if self.invoice else f"line {self.line_no}"
        return f"{where} {self.field}: {self.why}"


def field_problems(line_no: int, fields: dict[str, str], *,
                   invoice: str = "") -> list[FieldProblem]:
    """Every field of a line over its limit or outside its type (values never named:
    they may be confidential)."""
    problems = [FieldProblem(line_no, name, f"{len(fields[name])} characters, the limit is "
                             f"{limit}", fixable=True, invoice=invoice)
                for name, limit in TEXT_LIMITS.items() if len(fields[name]) > limit]
    for name, digits in AMOUNT_DIGITS.items():
        whole = fields[name].lstrip("-").split(".")[0]
        if len(whole) > digits:
            problems.append(FieldProblem(line_no, name, f"{len(whole)} digits before the point, "
                                         f"the limit is {digits}", fixable=False,
                                         invoice=invoice))
    keeper_class = fields["TIMEKEEPER_CLASSIFICATION"]
    if keeper_class and keeper_class not in CLASSIFICATIONS:
        problems.append(FieldProblem(line_no, "TIMEKEEPER_CLASSIFICATION",
                                     "not a LEDES timekeeper classification", fixable=False,
                                     invoice=invoice))
    return problems


def truncated(fields: dict[str, str]) -> dict[str, str]:
    """The fields cut to their limits."""
    return {name: value[:TEXT_LIMITS[name]] if name in TEXT_LIMITS else value
            for name, value in fields.items()}
