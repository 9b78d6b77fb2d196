"""How a driver change moves each chosen outcome, on its own scale, and what that is worth in a year.

For each outcome, a two-way fixed-effects fit of its family (Poisson rates,
logged costs, linear scores) gives the effect of ``change`` driver points at the
outcome's current level, with its interval; the yearly change in events or money
follows from the last year's volume. With ``bayesian=True`` the hierarchical
engine adds, per outcome, P(meeting its target) now and after the change.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bstate_stats.errors import SpecificationError
from bstate_stats.models.fixed_effects import FixedEffectsResults, fixed_effects
from bstate_stats.models.hierarchical import hierarchical
from bstate_stats.models.hierarchical.estimands import hdi
from bstate_stats.models.hierarchical.families import FamilyName
from bstate_stats.models.outcomes.results import COLUMNS, OutcomeEffectsResults
from bstate_stats.models.outcomes.spec import BOUNDED_SCALES, OutcomeSpec, outcome_spec
from bstate_stats.panel.panel import Panel


def outcome_effects(
    panel: Panel, outcomes: Sequence[str] | Mapping[str, Mapping[str, Any]], *, driver: str = "habit_index", controls: Sequence[str] = (), change: float = 10.0,
    periods_per_year: int = 12, confidence_level: float = 0.95, bootstrap_reps: int = 999, bayesian: bool | Sequence[str] = False, target_prob: float = 0.8,
    random_seed: int = 0, progress: bool = False,
) -> OutcomeEffectsResults:
    r"""The effect of ``change`` points of ``driver`` on every chosen outcome, in its own units, a year and in money.

    Rates: :math:`\log E[y_{it}] = \log n_{it} + \alpha_i + \delta_t + \beta x_{it}` (Poisson, exposure :math:`n`);
    costs: least squares on :math:`\log c_{it}`; scores and shares: linear; each with team and period effects.

    Parameters
    ----------
    panel
        A validated panel.
    outcomes
        Outcome columns, or ``{column: settings}``: the fields of
        :class:`~bstate_stats.models.outcomes.spec.OutcomeSpec` (``target``, ``direction``, ``unit_value``,
        ``volume``; ``family`` and ``exposure`` default from the schema).
    driver, controls
        The driver that changes (default the habit index) and drivers held fixed.
    change
        Points of the driver (default +10).
    periods_per_year
        The last ``periods_per_year`` periods give the yearly volume.
    confidence_level, bootstrap_reps
        Fixed-effects intervals; wild cluster bootstrap replicates with fewer than 30 teams.
    bayesian, target_prob
        True, or the outcomes (with a target) to fit also with the hierarchical engine (binomial rates,
        lognormal costs, censored normal scores): P(meeting the target) now and after the change, and the
        driver change that makes it ``target_prob`` (default 0.8).
    random_seed, progress
        Seed of the bootstrap and the sampler; the sampler's progress.

    Returns
    -------
    OutcomeEffectsResults

    Notes
    -----
    Within-team associations at each outcome's current level (rate ratios turned
    into changes of the rate there). The yearly change applies the ratio to the last
    year's events (total cost), assuming it holds across teams. Money is stated only
    where a unit value is given, positive when the outcome moves the better way.
    """
    specs = _specs(panel, outcomes)
    chosen = _bayesian_outcomes(bayesian, specs)
    rows, fits, bayes = [], {}, {}
    for spec in specs:
        fits[spec.column] = _fit(panel, spec, driver, controls, confidence_level, bootstrap_reps, random_seed)
        yearly = _yearly_total(panel, spec, periods_per_year)
        rows.append(_row(spec, fits[spec.column], driver, change, yearly))
        if spec.column in chosen and spec.target is not None:
            bayes[spec.column] = _bayes(panel, spec, driver, controls, random_seed, progress)
            rows[-1] |= _probabilities(bayes[spec.column], change, target_prob) | _bayes_money(bayes[spec.column], spec, change, periods_per_year, yearly)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    return OutcomeEffectsResults(table, {s.column: s for s in specs}, dict(panel.scales), driver, change, confidence_level, fits, bayes)


def _bayesian_outcomes(bayesian: bool | Sequence[str], specs: list[OutcomeSpec]) -> set[str]:
    """The outcomes to fit with the hierarchical engine: all, none, or those named (each must be an outcome)."""
    columns = [s.column for s in specs]
    chosen = set(columns) if bayesian is True else set() if bayesian is False else set(bayesian)
    if chosen - set(columns):
        raise SpecificationError(f"bayesian names {sorted(chosen - set(columns))}, which are not among the outcomes {columns}")
    return chosen


def _specs(panel: Panel, outcomes: Sequence[str] | Mapping[str, Mapping[str, Any]]) -> list[OutcomeSpec]:
    settings = {str(o): {} for o in outcomes} if not isinstance(outcomes, Mapping) else {str(k): dict(v or {}) for k, v in outcomes.items()}
    if not settings:
        raise SpecificationError("outcome_effects needs one or more outcomes")
    return [outcome_spec(panel, column, **values) for column, values in settings.items()]


def _fit(panel: Panel, spec: OutcomeSpec, driver: str, controls: Sequence[str], confidence_level: float, bootstrap_reps: int, seed: int) -> FixedEffectsResults:
    drivers = [driver, *[c for c in controls if c != driver]]
    if spec.column in drivers:
        raise SpecificationError(f"{spec.column} is an outcome and a driver")
    with warnings.catch_warnings():
        if bootstrap_reps > 0:  # the few-clusters warning is answered by the bootstrap interval the table reports; without one it reaches the user
            warnings.filterwarnings("ignore", message=r"only \d+ clusters")
        return fixed_effects(
            panel, spec.column, drivers, family=spec.family, exposure=spec.exposure, confidence_level=confidence_level, bootstrap_reps=bootstrap_reps, seed=seed
        )


def _row(spec: OutcomeSpec, fit: FixedEffectsResults, driver: str, change: float, yearly: float) -> dict[str, Any]:
    """The table row of one outcome: its effect at the current level, the yearly change (of ``yearly``, the last year's total) and its money."""
    effect = fit.effect_on_outcome(driver, change)
    if fit.is_ratio:
        per_year = yearly * (np.array([effect["ratio"], effect["ratio_low"], effect["ratio_high"]]) - 1)
    else:
        per_year = yearly * np.array([effect["estimate"], effect["conf_low"], effect["conf_high"]])
    sign = -1.0 if spec.lower_is_better else 1.0
    money = sign * per_year * spec.unit_value if spec.unit_value is not None and np.isfinite(yearly) else np.full(3, np.nan)
    boot = fit.bootstrap.get(driver)
    return {
        "outcome": spec.column, "family": spec.family, "exposure": spec.exposure or "", "driver": driver, "change": change, "level": effect["level"],
        "estimate": effect["estimate"], "conf_low": effect["conf_low"], "conf_high": effect["conf_high"], "ratio": effect["ratio"],
        "p_value": boot.p_value if boot is not None else fit.pvalues[driver], "interval": "wild cluster bootstrap" if boot is not None else "clustered",
        "target": spec.target, "direction": spec.direction, "per_year": per_year[0], "per_year_low": min(per_year[1:]), "per_year_high": max(per_year[1:]),
        "unit_value": spec.unit_value, "money": money[0], "money_low": min(money[1:]), "money_high": max(money[1:]),
        "n_rows": fit.n_rows, "n_excluded": fit.ledger.n_excluded, "n_teams": fit.n_teams,
    }


def _yearly_total(panel: Panel, spec: OutcomeSpec, periods_per_year: int) -> float:
    """What the effect applies to in a year, over the last ``periods_per_year`` periods, all teams.

    Events per year for a rate; total cost (cost x volume) for a cost; the volume for a linear outcome (none without one).
    """
    data = panel.data
    recent = data["t"].to_numpy() >= np.sort(data["t"].unique())[-min(periods_per_year, data["t"].nunique())]
    n_periods = int(data.loc[recent, "t"].nunique())
    volume = data.loc[recent, spec.volume].to_numpy(dtype=float) if spec.volume else np.ones(int(recent.sum()))
    if spec.family == "linear":
        if not spec.volume:
            return float("nan")  # a score has no yearly total of its own
        values = volume
    else:
        values = data.loc[recent, spec.column].to_numpy(dtype=float) * volume
    return float(np.nansum(values) * periods_per_year / max(n_periods, 1))


def _bayes(panel: Panel, spec: OutcomeSpec, driver: str, controls: Sequence[str], seed: int, progress: bool):
    """The hierarchical fit that gives P(meeting the target): binomial for counts out of an exposure, lognormal for costs.

    The structure of the fixed-effects fit beside it: team intercepts (regions, periods) and common slopes
    (``varying=()``): the question is the target probability of a typical team, not how slopes differ.
    """
    scale = panel.scales.get(spec.column, "numeric")
    family: FamilyName = "censored_normal" if scale in BOUNDED_SCALES else "normal"
    if spec.family == "poisson":
        family = "binomial" if spec.exposure else "poisson"
    elif spec.family == "log":
        family = "lognormal"
    if spec.target is None:
        raise SpecificationError(f"{spec.column}: P(meeting a target) needs a target")
    return hierarchical(
        panel, spec.column, [driver, *[c for c in controls if c != driver]], random_seed=seed, family=family, trials=spec.exposure if family == "binomial" else None,
        varying=(), target=spec.target, direction=spec.direction, progress=progress,
    )


def _probabilities(result, change: float, prob: float) -> dict[str, Any]:
    """P(a typical team meets the target in a period) now and after the change, and the driver change that makes it ``prob``."""
    now = result.prob_target(change=0.0).iloc[0]
    after = result.prob_target(change=change).iloc[0]
    required = result.required_change(prob).iloc[0]
    return {
        "prob_now": now["mean"], "prob_after": after["mean"], "prob_low": after["hdi_low"], "prob_high": after["hdi_high"],
        "target_prob": prob, "required_change": required["required_change"], "required_low": required["hdi_low"], "required_high": required["hdi_high"], "converged": result.converged,
    }


def _bayes_money(result, spec: OutcomeSpec, change: float, periods_per_year: int, yearly: float) -> dict[str, Any]:
    """The yearly money from the hierarchical fit: per draw, the ratio of expected events (costs) over the last year's rows, valued as the fixed-effects row is."""
    if spec.unit_value is None or not np.isfinite(yearly) or spec.family == "linear":
        return {}
    period = result.arrays["period_idx"]
    rows = np.flatnonzero(period > period.max() - periods_per_year)
    ratio = result.setting.expected_ratio(rows, 0, change)
    money = (-1.0 if spec.lower_is_better else 1.0) * (ratio - 1) * yearly * spec.unit_value
    low, high = hdi(money, result.credible_level)
    return {"bayes_money": float(money.mean()), "bayes_money_low": low, "bayes_money_high": high}
