"""The ``bstate-stats`` command.

Exit codes: 0 success, 1 validation or convergence failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
TABLE_NAMES = ("deliverables", "habits", "relationships")


def _seed(text: str) -> int:
    """A seed argument: a whole number, 0 or more (argparse turns the error into a usage message, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; a seed is 0 or more")
    return value


def _cmd_simulate(args: argparse.Namespace) -> int:
    from bstate_stats import simulate

    study = simulate.case_study(seed=args.seed)
    paths = study.write(args.out, format=args.format, overwrite=args.force)
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
    if args.mapping is not None and not args.mapping.is_file():
        print(f"bstate-stats validate: mapping file {args.mapping} does not exist", file=sys.stderr)
        return EXIT_USAGE
    if path.is_file() and path.stem.lower() not in TABLE_NAMES:
        print(f"bstate-stats validate: give the folder that holds the tables ({', '.join(TABLE_NAMES)}), not the file {path.name}", file=sys.stderr)
        return EXIT_USAGE
    directory = path if path.is_dir() else path.parent
    report = validate(directory, mapping=args.mapping)
    if args.json:
        print(report.to_json())
    else:
        print(report.to_text())
    return EXIT_OK if report.ok else EXIT_INVALID


def _print_headline(outcome) -> None:
    from bstate_stats.schema.words import Words

    h = outcome.headline
    words = Words.from_dict(h.get("outcome_words"))
    print(f"\nRun finished with status {outcome.status!r} in {outcome.out}")
    if "fe_effect" in h:
        print(f"  within-team effect: {words.amount(h['fe_effect'])} per +{h['habit_change']:g} habit points "
              f"({words.number(h['fe_conf_low'])} to {words.number(h['fe_conf_high'])})")
    if h.get("converged") is not None:
        if not h["converged"]:
            print(f"  WARNING: Bayesian model NOT converged: {h['convergence_message']}")
        if h["required_reachable"]:
            print(f"  habit change for a {h['target_prob']:.0%} chance of {words.noun} >= {words.level(h['threshold'])} (a typical team): "
                  f"+{h['required_change']:.1f} points ({h['required_low']:.1f} to {h['required_high']:.1f})")
        if "revenue_lift_mean" in h:
            print(f"  annual revenue lift of +{h['habit_change']:g} habit points: ${h['revenue_lift_mean']:,.0f} "
                  f"(${h['revenue_lift_low']:,.0f} to ${h['revenue_lift_high']:,.0f}), P(lift > 0) = {h['revenue_lift_prob_positive']:.2f}")


def _run_and_report(config, out: Path, *, force: bool, strict: bool, report: bool) -> int:
    from bstate_stats.reporting.render import render_report
    from bstate_stats.reporting.run import run_analysis

    outcome = run_analysis(config, out, force=force)
    if outcome.status == "invalid":
        print(f"validation failed: see {out / 'tables' / 'validation.csv'}", file=sys.stderr)
        return EXIT_INVALID
    _print_headline(outcome)
    if report:
        print("rendering the report ...")
        print(f"  report: {render_report(out)}")
    return EXIT_INVALID if strict and outcome.status != "ok" else EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from bstate_stats.reporting.config import load_config

    if not args.config.is_file():
        what = "is a folder, not a config file" if args.config.is_dir() else "does not exist"
        print(f"bstate-stats run: {args.config} {what}", file=sys.stderr)
        return EXIT_USAGE
    return _run_and_report(load_config(args.config), args.out, force=args.force, strict=args.strict, report=not args.no_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from bstate_stats.reporting.render import render_report

    print(f"report: {render_report(args.run)}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from bstate_stats.reporting.config import load_config
    from bstate_stats.reporting.render import report_source

    config_path = report_source().parent.parent / "analyses" / "case_study.toml"
    packaged = report_source().parent.parent / "example"
    config = load_config(config_path if config_path.is_file() else Path(__file__).resolve().parents[1] / "analyses" / "case_study.toml")
    if packaged.is_dir():
        import dataclasses

        config = dataclasses.replace(config, data=dataclasses.replace(config.data, directory=str(packaged)))
    print(f"bstate-stats demo: the case study on the bundled example data ({config.data_directory})")
    return _run_and_report(config, args.out, force=True, strict=args.strict, report=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bstate-stats", description="Link team habits to satisfaction and revenue.")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser("simulate", help="write a simulated case study with known truth")
    sim.add_argument("--out", required=True, type=Path, help="directory to write the tables into")
    sim.add_argument("--seed", type=_seed, default=7, help="random seed, a whole number 0 or more (default 7)")
    sim.add_argument("--format", choices=["csv", "parquet", "excel"], default="csv")
    sim.add_argument("--force", action="store_true", help="overwrite table files that differ from the ones simulated")
    sim.set_defaults(handler=_cmd_simulate)

    val = commands.add_parser("validate", help="validate a directory of tables and list every problem")
    val.add_argument("path", help="directory holding deliverables, habits and relationships tables")
    val.add_argument("--mapping", type=Path, default=None, help="TOML file mapping your column names to the contract's")
    val.add_argument("--json", action="store_true", help="print the report as JSON")
    val.set_defaults(handler=_cmd_validate)

    run = commands.add_parser("run", help="run an analysis config end to end into an output directory")
    run.add_argument("config", type=Path)
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--force", action="store_true", help="replace an earlier bstate run made with another config (a folder holding other files is always refused)")
    run.add_argument("--strict", action="store_true", help="exit 1 when the Bayesian model did not converge")
    run.add_argument("--no-report", action="store_true", help="skip rendering report.html")
    run.set_defaults(handler=_cmd_run)

    rep = commands.add_parser("report", help="render report.html for a finished run")
    rep.add_argument("--run", type=Path, required=True)
    rep.set_defaults(handler=_cmd_report)

    demo = commands.add_parser("demo", help="the main job: the case study on the bundled example data, ending in a report")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"), help="a new or empty folder, or an earlier bstate run (default runs/demo)")
    demo.add_argument("--strict", action="store_true")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _fail(command: str, message: str) -> None:
    print(f"bstate-stats {command}: {message}", file=sys.stderr)


def _warning_printer(command: str):
    """``warnings.showwarning`` for the CLI: the toolkit's own warnings as one line, without the source line."""
    from bstate_stats.errors import BStateWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, BStateWarning):
            print(f"bstate-stats {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``bstate-stats``; returns the exit code.

    User errors and faults of the environment (a full disk, a read-only
    folder) end in one sentence on stderr and exit code 1, never a
    traceback; ``--debug`` shows the traceback as well.
    """
    from bstate_stats.errors import BStateError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command)
            return args.handler(args)
    except BStateError as exc:
        if args.debug:
            raise
        _fail(args.command, str(exc))
        return EXIT_INVALID
    except OSError as exc:
        if args.debug:
            raise
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        _fail(args.command, f"{exc.strerror or exc}{where}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        _fail(args.command, "interrupted; every file is written whole or not at all, and a run that did not finish has no manifest")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, said plainly
        if args.debug:
            raise
        _fail(args.command, f"internal error ({type(exc).__name__}: {exc}). This is a bug in bstate_stats; run again with --debug for the traceback and report it")
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
