"""PNG plots of the figures ``scripts/bench --json FILE`` wrote.

* ``NAME-writers.png``: appended events/s against concurrent writer processes, one
  line per recorder and batch size, one panel per table (store, application path);
* ``NAME-verify.png``: verify time (s) and rate (events/s) against ledger size,
  serial and parallel, with the SHA-256 limit of the same rows for reference.

Usage: scripts/bench-plot FILE [--out FOLDER]   (default: next to FILE)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

TABLES = {"store": ("plain", "chained", "store: stored events (chain only)"),
          "app": ("plain", "ledger", "application path (chain + sealing)")}


def machine_note(figures: dict[str, Any]) -> str:
    load = figures.get("load_average") or [0.0]
    return (f"{figures.get('cpus', '?')} cpus, load average {load[0]:.1f} at start;"
            f" PostgreSQL {str(figures.get('server_version', '?')).split()[0]}")


def plot_writers(figures: dict[str, Any], out: Path) -> Path | None:
    tables = [name for name in TABLES if figures.get(name)]
    if not tables:
        return None
    fig, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 4.5), squeeze=False)
    for ax, name in zip(axes[0], tables, strict=True):
        base, other, title = TABLES[name]
        rows = figures[name]
        for batch in sorted({row["batch"] for row in rows}):
            cells = sorted((row for row in rows if row["batch"] == batch),
                           key=lambda row: row["writers"])
            writers = [row["writers"] for row in cells]
            for kind, style in ((base, "--"), (other, "-")):
                ax.plot(writers, [row[f"{kind}_ev_s"] for row in cells], style, marker="o",
                        label=f"{kind}, {batch} event(s) per transaction")
        ax.set(title=title, xlabel="concurrent writer processes", ylabel="events/s",
               xscale="log", yscale="log")
        ax.set_xticks(sorted({row["writers"] for row in rows}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"append throughput ({machine_note(figures)})", fontsize="medium")
    fig.tight_layout()
    path = out.with_name(out.name + "-writers.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_verify(figures: dict[str, Any], out: Path) -> Path | None:
    verify = figures.get("verify")
    if not verify or not verify.get("sizes"):
        return None
    sizes = verify["sizes"]
    events = [row["events"] for row in sizes]
    workers = sizes[0]["workers"]
    fig, (cost, rate) = plt.subplots(1, 2, figsize=(13, 4.5))
    cost.plot(events, [row["serial_s"] for row in sizes], "-o", label="serial (--workers 1)")
    cost.plot(events, [row["parallel_s"] for row in sizes], "-o", label=f"{workers} workers")
    cost.set(title="verify time", xlabel="events in the ledger", ylabel="seconds")
    rate.plot(events, [row["serial_ev_s"] for row in sizes], "-o", label="serial")
    rate.plot(events, [row["parallel_ev_s"] for row in sizes], "-o", label=f"{workers} workers")
    rate.plot(events, [row["first_pass_ev_s"] for row in sizes], ":o",
              label="first pass after the fill")
    limit = verify.get("sha256")
    if limit:
        rate.axhline(limit["one_process_ev_s"], color="grey", linestyle="--",
                     label="SHA-256 alone, 1 process")
        rate.axhline(limit["all_processes_ev_s"], color="black", linestyle="--",
                     label=f"SHA-256 alone, {limit['processes']} processes")
    rate.set(title="verify rate", xlabel="events in the ledger", ylabel="events/s")
    for ax in (cost, rate):
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"verify cost against ledger size ({machine_note(figures)})",
                 fontsize="medium")
    fig.tight_layout()
    path = out.with_name(out.name + "-verify.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="figures from scripts/bench --json FILE")
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: FILE's)")
    args = parser.parse_args()
    figures = json.loads(args.file.read_text())
    folder = args.out or args.file.parent
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / args.file.stem
    written = [p for p in (plot_writers(figures, out), plot_verify(figures, out)) if p]
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("no append table or verify sizes in the file: nothing to draw")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
