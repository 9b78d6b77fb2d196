"""Run an analysis config end to end: validate the data, run each configured step, write what it returns, the sections and, last, the manifest."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bstate_stats.errors import BStateWarning  # noqa: E402
from bstate_stats.io.run_folder import RunExistsError, RunFolder  # noqa: E402
from bstate_stats.reporting.config import AnalysisConfig  # noqa: E402
from bstate_stats.reporting.steps import Section, StepContext, StepOutput, TableItem, step  # noqa: E402
from bstate_stats.schema.readers import find_table_files  # noqa: E402

__all__ = ["RunExistsError", "RunOutcome", "run_analysis"]


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: its directory, status (``ok``, ``invalid``, ``not_converged``), headline numbers and notices."""

    out: Path
    status: str
    headline: dict
    notices: tuple[str, ...] = ()


def _save_figure(folder: RunFolder, name: str, figure) -> str:
    """Write a figure as PNG and close it; returns its description (the report's alternative text)."""
    try:
        folder.write_with(f"figures/{name}.png", lambda p: figure.savefig(p, format="png", dpi=110, bbox_inches="tight"))
        return figure_description(figure)
    finally:
        plt.close(figure)


def figure_description(figure) -> str:
    """A figure in words, for readers who cannot see it: its title, then each panel's title and axes.

    Parameters
    ----------
    figure
        A matplotlib figure.

    Returns
    -------
    str
        E.g. ``"Chance of satisfaction at or above 8; x: habit index change (points); y: P(satisfaction >= 8)"``.
    """
    parts = [figure.get_suptitle().strip()] if figure.get_suptitle().strip() else []
    for axes in figure.axes:
        named = [axes.get_title().strip()] + [f"{axis}: {label.strip()}" for axis, label in (("x", axes.get_xlabel()), ("y", axes.get_ylabel())) if label.strip()]
        if any(named):
            parts.append("; ".join(n for n in named if n))
    return " ".join(". ".join(parts).split()) or "A figure of this section."  # labels broken over lines read as one


def run_analysis(config: AnalysisConfig, out: str | Path, *, force: bool = False, progress: Callable[[str], None] = print) -> RunOutcome:
    """Run the case-study analysis described by ``config`` into the folder ``out``.

    Parameters
    ----------
    config
        The analysis configuration.
    out
        Output folder: new, empty, or holding an earlier bstate run (never
        anything else; see :class:`~bstate_stats.io.run_folder.RunFolder`).
    force
        Replace an earlier run made with a different configuration.
    progress
        Receives one line per step.

    Returns
    -------
    RunOutcome
        Status and headline numbers. The folder holds ``tables/*.csv``,
        ``figures/*.png`` (described in ``figures/descriptions.json``), ``posterior/*.nc``, ``headline.json`` and, last,
        ``manifest.json`` listing exactly the files this run wrote. A data
        directory that fails validation stops the run before modelling
        (``tables/validation.csv`` and a manifest with status ``invalid``).
    """
    with RunFolder.claim(out, config=config.to_dict(), replace=force) as folder:
        for notice in folder.notices:
            progress(f"note: {notice}")
        status, headline = _run_steps(config, folder, progress)
        return RunOutcome(folder.path, status, headline, tuple(folder.notices))


def _run_steps(config: AnalysisConfig, folder: RunFolder, progress: Callable[[str], None]) -> tuple[str, dict]:
    import bstate_stats as bs

    inputs = sorted(p for table in ("deliverables", "habits", "relationships") for p in find_table_files(config.data_directory, table))
    seeds = {"hierarchical": config.seeds.hierarchical, "bootstrap": config.seeds.bootstrap}
    n_steps = len(config.analysis) + 2

    progress(f"[1/{n_steps}] validating {config.data_directory}")
    started = time.perf_counter()
    report = bs.validate(config.data_directory, mapping=config.data.mapping or None)
    folder.write_frame("tables/validation.csv", report.summary())
    if not report.ok:
        folder.finish(inputs=inputs, config=config.to_dict(), seeds=seeds, status="invalid")
        return "invalid", {"validation_errors": len(report.errors)}
    panel = bs.load_panel(config.data_directory, mapping=config.data.mapping or None)
    _require_columns(panel, config)
    seconds = {"01 validate": round(time.perf_counter() - started, 2)}  # where the run's time went, in the manifest (keys numbered as the progress lines)
    sections = [_validation_section(report)]
    descriptions: dict[str, str] = {}
    headline: dict = {}
    status = "ok"
    for k, entry in enumerate(config.analysis, start=2):
        registered = step(entry.kind)
        progress(f"[{k}/{n_steps}] {registered.description}")
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BStateWarning)
            output = registered.run(StepContext(panel, config, entry.options, progress))
        seconds[f"{k:02d} {entry.kind}"] = elapsed = round(time.perf_counter() - started, 2)
        progress(f"  done in {elapsed:.1f} s")
        _write_output(folder, output, descriptions)
        said = sorted({str(w.message) for w in caught if issubclass(w.category, BStateWarning)})
        libraries = sorted({str(w.message) for w in caught if not issubclass(w.category, BStateWarning)})
        if said:  # the toolkit's own warnings go in the tables and the report
            folder.write_frame(f"tables/{entry.kind}_warnings.csv", pd.DataFrame({"warning": said}))
            output.sections.append(Section(f"Warnings: {registered.description}", sentences=tuple(said)))
        if libraries:  # the libraries' (compiler, BLAS, deprecations) depend on the machine's state: kept in logs/
            folder.write_text(f"logs/{entry.kind}_library_warnings.txt", "\n".join(libraries) + "\n")
        sections += output.sections
        headline |= output.headline
        status = output.status if output.status != "ok" else status
    progress(f"[{n_steps}/{n_steps}] writing headline and manifest")
    folder.write_text("sections.json", json.dumps([section.to_dict() for section in sections], indent=1) + "\n")
    if descriptions:
        folder.write_text("figures/descriptions.json", json.dumps(descriptions, indent=1, sort_keys=True) + "\n")
    folder.write_text("headline.json", json.dumps(headline, indent=2, sort_keys=True) + "\n")
    folder.finish(inputs=inputs, config=config.to_dict(), seeds=seeds, status=status, extra={"seconds": seconds})
    return status, headline


def _write_output(folder: RunFolder, output: StepOutput, descriptions: dict[str, str]) -> None:
    """Write what a step produced through the run folder (atomically, journaled, certified by the manifest); each figure's description goes to ``descriptions``."""
    for name, frame in output.tables.items():
        folder.write_frame(f"tables/{name}.csv", frame)
    for name, text in output.texts.items():
        folder.write_text(f"tables/{name}", text)
    for name, figure in output.figures.items():
        descriptions[name] = _save_figure(folder, name, figure)
    for relative, write in output.files.items():
        folder.write_with(relative, write)


def _validation_section(report) -> Section:
    counts = f"{len(report.errors)} errors, {len(report.warnings)} warnings." if report.issues else "All validation rules passed; no warnings."
    return Section("Data validation", sentences=(counts,), tables=(TableItem("validation"),) if report.issues else ())


def _require_columns(panel, config: AnalysisConfig) -> None:
    """The columns the configured steps use, checked against the panel before any model runs."""
    from bstate_stats.errors import ConfigError

    m = config.model
    wanted = {"[model] outcome": [m.outcome], "[model] drivers": list(m.drivers)}
    if any(entry.kind == "revenue" or entry.kind == "hierarchical" for entry in config.analysis):
        wanted["revenue (deliverables table)"] = ["revenue"]
    where = {"habit_index": "habit items in a habits table", "relationship_index": "survey items in a relationships table"}
    problems = []
    for key, columns in wanted.items():
        for column in columns:
            if column not in panel.data.columns:
                hint = f" (it is built from {where[column]})" if column in where else ""
                problems.append(f"{key}: {column!r} is not in the panel{hint}")
    if problems:
        measures = ", ".join(c for c in panel.data.columns if c not in ("t", "region"))
        raise ConfigError(f"{config.data_directory}: " + "; ".join(problems) + f". Columns available: {measures}")
