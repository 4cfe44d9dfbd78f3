"""``python -m tests.harness --writers N --seconds S``: the long form (see scripts/harness)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.harness.controller import HarnessConfig, run_harness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/harness", description=__doc__)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--restarts", type=int, default=3,
                        help="server restarts per run (at least 1)")
    parser.add_argument("--keep", action="store_true", help="keep the journals and pgdata")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    cfg = HarnessConfig(writers=args.writers, seconds=args.seconds, seed=args.seed,
                        restarts=max(args.restarts, 1), keep_workdir=args.keep)
    report = run_harness(cfg, log=lambda text: print(text, flush=True))
    print(report.summary())
    if args.keep:
        print(f"journals and pgdata kept in {report.workdir}")
    if args.json and report.verdict is not None:
        print(json.dumps({"kills": report.kills, "terminations": report.terminations,
                          "restarts": report.restarts, "run_seconds": report.run_seconds,
                          **report.verdict.figures}, sort_keys=True))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
