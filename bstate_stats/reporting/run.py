"""Run an analysis config end to end: validate, describe, fixed effects, Bayesian model, tables, figures, manifest."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from bstate_stats.io.run_folder import RunExistsError, RunFolder  # noqa: E402
from bstate_stats.reporting.config import AnalysisConfig  # noqa: E402
from bstate_stats.schema.readers import find_table_files  # noqa: E402

__all__ = ["RunExistsError", "RunOutcome", "run_analysis"]


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: its directory, status (``ok``, ``invalid``, ``not_converged``), headline numbers and notices."""

    out: Path
    status: str
    headline: dict
    notices: tuple[str, ...] = ()


def _save_figure(folder: RunFolder, name: str, figure) -> None:
    try:
        folder.write_with(f"figures/{name}.png", lambda p: figure.savefig(p, format="png", dpi=110, bbox_inches="tight"))
    finally:
        plt.close(figure)


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
        ``figures/*.png``, ``posterior/*.nc``, ``headline.json`` and, last,
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
    m = config.model

    progress(f"[1/5] validating {config.data_directory}")
    report = bs.validate(config.data_directory, mapping=config.data.mapping or None)
    folder.write_frame("tables/validation.csv", report.summary())
    if not report.ok:
        folder.finish(inputs=inputs, config=config.to_dict(), seeds=seeds, status="invalid")
        return "invalid", {"validation_errors": len(report.errors)}
    panel = bs.load_panel(config.data_directory, mapping=config.data.mapping or None)
    _require_columns(panel, config)

    progress("[2/5] describing the panel")
    description = panel.describe(outcome=m.outcome, threshold=m.threshold)
    folder.write_frame("tables/trajectories.csv", description.trajectories.astype({"period": str}))
    folder.write_frame("tables/share_above.csv", description.share_above.astype({"period": str}))
    folder.write_frame("tables/region_ranking.csv", description.region_ranking)
    if panel.columns_with_role("habit_item"):
        improved = panel.habits_improved()
        folder.write_frame("tables/habits_improved.csv", improved.astype({"baseline": str, "compare": str}), index=True)
        share_improved = float(improved.attrs["overall_share"])
    else:
        progress("  no habit items in the data: the share of habits improved is not computed")
        share_improved = None
    _save_figure(folder, "trajectories", description.plot())

    progress("[3/5] fixed effects, threshold and revenue models")
    fe_options = dict(effects=config.fixed_effects.effects, cluster=config.fixed_effects.cluster, level=config.fixed_effects.level, bootstrap_reps=config.fixed_effects.bootstrap_reps, seed=config.seeds.bootstrap)
    with warnings.catch_warnings(record=True) as fe_warnings:
        warnings.simplefilter("always", bs.EstimationWarning)
        fe = bs.fixed_effects(panel, m.outcome, m.drivers, **fe_options)
        lagged = bs.fixed_effects(panel, m.outcome, m.drivers, lags={m.drivers[0]: 1}, **fe_options)
        threshold = bs.threshold_model(panel, m.outcome, [m.drivers[0]], threshold=m.threshold, change=m.habit_change, **fe_options)
        revenue = bs.revenue_model(panel, satisfaction=m.outcome, threshold=m.threshold, **{k: v for k, v in fe_options.items() if k != "effects"})
        chain = bs.habit_to_revenue(panel, habit_change=m.habit_change, satisfaction=m.outcome, habit=m.drivers[0], controls=tuple(m.drivers[1:]), threshold=m.threshold, reps=config.fixed_effects.chain_reps, seed=config.seeds.bootstrap, progress=False)
    folder.write_frame("tables/fixed_effects.csv", fe.summary())
    folder.write_frame("tables/fixed_effects_lagged.csv", lagged.summary())
    folder.write_frame("tables/fixed_effects_ledger.csv", fe.ledger.summary())
    folder.write_text("tables/fixed_effects_compare.md", bs.compare([fe, lagged], names=["same period", "habits at t-1"]).to_markdown() + "\n")
    folder.write_frame("tables/threshold.csv", threshold.summary())
    folder.write_frame("tables/revenue.csv", revenue.summary())
    folder.write_frame("tables/habit_to_revenue.csv", chain.summary())
    folder.write_frame("tables/specification_tests.csv", pd.concat([bs.mundlak(panel, m.outcome, m.drivers).to_frame(), bs.team_effects_f_test(panel, m.outcome, m.drivers).to_frame()]).astype({"df": str}))
    folder.write_frame("tables/estimation_warnings.csv", pd.DataFrame({"warning": sorted({str(w.message) for w in fe_warnings})}))
    _save_figure(folder, "fixed_effects", fe.plot(change=m.habit_change))
    fe_row = fe.effect(m.drivers[0], m.habit_change)
    headline = {
        "habit_change": m.habit_change,
        "threshold": m.threshold,
        "target_prob": m.target_prob,
        "fe_effect": float(fe_row["estimate"]),
        "fe_conf_low": float(fe_row["conf_low"]),
        "fe_conf_high": float(fe_row["conf_high"]),
        "fe_level": config.fixed_effects.level,
        "chain_lift": chain.estimate,
        "chain_conf_low": chain.interval[0],
        "chain_conf_high": chain.interval[1],
        "revenue_lift_pct": float(revenue.lift["estimate"] * 100),
        "share_habits_improved": share_improved,
        "n_rows": panel.n_rows,
        "n_teams": len(panel.teams),
        "n_regions": len(panel.regions),
        "converged": None,
    }
    status = "ok"
    if config.hierarchical.enabled:
        status, bayes = _bayesian(panel, config, folder, progress)
        headline |= bayes
    progress("[5/5] writing headline and manifest")
    folder.write_text("headline.json", json.dumps(headline, indent=2, sort_keys=True) + "\n")
    folder.finish(inputs=inputs, config=config.to_dict(), seeds=seeds, status=status)
    return status, headline


def _require_columns(panel, config: AnalysisConfig) -> None:
    """The columns the case-study steps use, checked against the panel before any model runs."""
    from bstate_stats.errors import ConfigError

    m = config.model
    wanted = {"[model] outcome": [m.outcome], "[model] drivers": list(m.drivers), "revenue (deliverables table)": ["revenue"]}
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


def _bayesian(panel, config: AnalysisConfig, folder: RunFolder, progress: Callable[[str], None]) -> tuple[str, dict]:
    import bstate_stats as bs

    h, m = config.hierarchical, config.model
    progress(f"[4/5] Bayesian hierarchical model ({h.sampler}, {h.chains} chains x {h.draws} draws)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = bs.hierarchical(panel, m.outcome, m.drivers, random_seed=config.seeds.hierarchical, sampler=h.sampler, chains=h.chains, draws=h.draws, tune=h.tune, target_accept=h.target_accept, likelihood=h.likelihood, team_effects=h.team_effects, threshold=m.threshold, priors=h.priors or None, credible_level=h.credible_level, progress=False)
    recorded = sorted({str(w.message) for w in caught if issubclass(w.category, bs.errors.BStateWarning)})
    folder.write_frame("tables/bayes_warnings.csv", pd.DataFrame({"warning": recorded}))
    folder.write_with("posterior/hierarchical.nc", fit.save)
    folder.write_frame("tables/bayes_summary.csv", fit.summary())
    folder.write_frame("tables/bayes_diagnostics.csv", fit.diagnostics.summary())
    folder.write_frame("tables/bayes_region_effects.csv", fit.habit_effects("region"))
    folder.write_frame("tables/bayes_team_effects.csv", fit.habit_effects("team"))
    curve = fit.prob_curve()
    folder.write_frame("tables/prob_curve.csv", curve)
    required = pd.concat([fit.required_habit_change(prob=m.target_prob, level=level) for level in ("population", "region")], ignore_index=True)
    folder.write_frame("tables/required_change.csv", required)
    lift = fit.revenue_lift(m.habit_change)
    folder.write_frame("tables/revenue_lift.csv", lift)
    folder.write_frame("tables/revenue_lift_region.csv", fit.revenue_lift(m.habit_change, level="region"))
    for name, figure in (("bayes_region_effects", fit.plot_effects("region")), ("ppc", fit.plot_ppc()), ("prob_curve", fit.plot_prob_curve(prob=m.target_prob)), ("revenue_lift", fit.plot_revenue_lift(m.habit_change))):
        _save_figure(folder, name, figure)
    population = required.iloc[0]
    prob = fit.prob_above(habit_change=m.habit_change).iloc[0]
    row = lift.iloc[0]
    effect = fit.habit_effects("population").iloc[0]
    headline = {
        "converged": fit.converged,
        "convergence_message": fit.diagnostics.message(),
        "bayes_effect": effect["mean"],
        "bayes_effect_low": effect["hdi_low"],
        "bayes_effect_high": effect["hdi_high"],
        "credible_level": h.credible_level,
        "required_change": population["required_change"],
        "required_low": population["hdi_low"],
        "required_high": population["hdi_high"],
        "required_reachable": bool(population["reachable"]),
        "prob_now": float(fit.prob_above(habit_change=0).iloc[0]["mean"]),
        "prob_after_change": float(prob["mean"]),
        "revenue_lift_mean": row["mean"],
        "revenue_lift_low": row["hdi_low"],
        "revenue_lift_high": row["hdi_high"],
        "revenue_lift_prob_positive": row["prob_positive"],
        "sampling_seconds": fit.meta["sampling_seconds"],
    }
    return ("ok" if fit.converged else "not_converged"), headline
