"""The ``bstate-stats`` command.

Exit codes: 0 success, 1 validation or convergence failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _cmd_simulate(args: argparse.Namespace) -> int:
    from bstate_stats import simulate

    study = simulate.case_study(seed=args.seed)
    paths = study.write(args.out, format=args.format)
    truth = study.truth
    print(f"Simulated case study (seed {args.seed}): {len(study.deliverables)} rows, {study.deliverables['team'].nunique()} teams")
    print(f"  true habit effect: {truth.habit_effect:+.2f} satisfaction points per +10 habit points")
    print(f"  programme revenue: ${truth.programme_revenue_before:,.0f}/year before, ${truth.programme_revenue_after:,.0f}/year at the end")
    for path in paths:
        print(f"  wrote {path}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from bstate_stats.panel.load import validate

    path = Path(args.path)
    if not path.exists():
        print(f"bstate-stats validate: {path} does not exist", file=sys.stderr)
        return EXIT_USAGE
    directory = path if path.is_dir() else path.parent
    report = validate(directory, mapping=args.mapping)
    if args.json:
        print(report.to_json())
    else:
        print(report.to_text())
    return EXIT_OK if report.ok else EXIT_INVALID


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bstate-stats", description="Link team habits to satisfaction and revenue.")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser("simulate", help="write a simulated case study with known truth")
    sim.add_argument("--out", required=True, type=Path, help="directory to write the tables into")
    sim.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sim.add_argument("--format", choices=["csv", "parquet", "excel"], default="csv")
    sim.set_defaults(handler=_cmd_simulate)

    val = commands.add_parser("validate", help="validate a directory of tables and list every problem")
    val.add_argument("path", help="directory holding deliverables, habits and relationships tables")
    val.add_argument("--mapping", type=Path, default=None, help="TOML file mapping your column names to the contract's")
    val.add_argument("--json", action="store_true", help="print the report as JSON")
    val.set_defaults(handler=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bstate-stats``; returns the exit code."""
    from bstate_stats.errors import BStateError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except BStateError as exc:
        print(f"bstate-stats {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
