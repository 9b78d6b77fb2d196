"""The habit -> satisfaction -> threshold -> revenue chain in currency per year, with a team-cluster bootstrap interval."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bstate_stats.errors import ColumnError, EstimationWarning, SpecificationError, renamed_keywords
from bstate_stats.inference.resampling import TeamResampler
from bstate_stats.models.fixed_effects.engines import pyfixest_fit, within_slopes
from bstate_stats.models.fixed_effects.estimate import fixed_effects
from bstate_stats.models.fixed_effects.spec import FixedEffectsSpec
from bstate_stats.models.revenue.estimate import revenue_panel
from bstate_stats.models.revenue.results import HabitRevenueChain
from bstate_stats.panel.panel import Panel


def _chain_lift(habit_effect: float, log_lift: float, window: pd.DataFrame, satisfaction: str, revenue: str, habit_change: float, threshold: float, scale: float) -> tuple[float, float, float]:
    """Annual lift and the share at or above the threshold before and after the habit change."""
    score = window[satisfaction].to_numpy()
    shifted = score + habit_effect * habit_change
    crosses = (score < threshold) & (shifted >= threshold)
    lift = float(np.sum(crosses * window[revenue].to_numpy()) * np.expm1(log_lift) * scale)
    return lift, float(np.mean(score >= threshold)), float(np.mean(shifted >= threshold))


@renamed_keywords(level="confidence_level", reps="bootstrap_reps")
def habit_to_revenue(
    panel: Panel,
    *,
    habit_change: float = 10.0,
    satisfaction: str = "csat",
    habit: str = "habit_index",
    controls: Sequence[str] = ("relationship_index",),
    revenue: str = "revenue",
    threshold: float = 8.0,
    periods_per_year: int | None = None,
    confidence_level: float = 0.95,
    bootstrap_reps: int = 200,
    seed: int = 0,
    progress: bool = True,
) -> HabitRevenueChain:
    r"""Chain habit -> satisfaction -> P(satisfaction >= threshold) -> revenue, in currency per year.

    1. Within-team effect of the habit index on satisfaction, :math:`\beta`
       (two-way fixed effects, with ``controls``).
    2. Revenue lift of a team-period at or above the threshold, :math:`\lambda`
       (:func:`revenue_model`).
    3. Over the last year of data, every team's satisfaction is shifted by
       :math:`\beta \Delta`; rows that move from below to at-or-above the
       threshold earn :math:`(e^\lambda - 1)` times their revenue more. Summed
       and scaled to a year, this is the organisation's annual lift.

    The interval resamples teams with replacement and re-estimates both
    models on every replicate, so it carries the uncertainty of both links.

    Parameters
    ----------
    panel
        A validated panel with satisfaction, the habit index, controls and revenue.
    habit_change
        Habit points added to every team.
    satisfaction, habit, controls, revenue
        Column names.
    threshold
        Satisfaction threshold whose revenue lift is chained.
    periods_per_year
        Periods in a year (taken from calendar periods when not given).
    confidence_level
        Confidence level of the bootstrap interval.
    bootstrap_reps
        Team-bootstrap replicates (at least 2; 200 or more for a 95% interval).
    seed
        Seed of the bootstrap.
    progress
        Show a progress bar.

    Returns
    -------
    HabitRevenueChain
        The annual lift, its bootstrap draws and interval, and the components of the chain.

    Notes
    -----
    Uses the observed scores as the distribution around which satisfaction
    shifts (no Normality assumption). Causal reading requires both links to be
    causal (see :func:`fixed_effects` and :func:`revenue_model`).
    """
    ppy = periods_per_year or panel.period_format.periods_per_year
    if ppy is None:
        raise SpecificationError("periods are integers: pass periods_per_year (e.g. 12 for months)")
    if isinstance(ppy, bool) or not isinstance(ppy, (int, np.integer)) or ppy < 1:
        raise SpecificationError(f"periods_per_year={ppy!r}; a whole number of periods in a year, 1 or more")
    if isinstance(bootstrap_reps, bool) or not isinstance(bootstrap_reps, (int, np.integer)) or bootstrap_reps < 2:
        raise SpecificationError(f"bootstrap_reps={bootstrap_reps!r}; the bootstrap interval needs at least 2 replicates (200 or more for a 95% interval)")
    controls = [controls] if isinstance(controls, str) else list(controls)
    for column in (revenue, satisfaction, habit, *controls):
        if column not in panel.data:
            raise ColumnError(f"{column!r} is not in the panel (habit_to_revenue uses satisfaction={satisfaction!r}, habit={habit!r}, controls={controls}, revenue={revenue!r})")
    with_columns, indicator = revenue_panel(panel, revenue, satisfaction, threshold)
    drivers = [habit, *controls]
    sat_frame = with_columns.model_frame(satisfaction, drivers).data
    rev_frame = with_columns.model_frame(f"log_{revenue}", [indicator]).data
    spec = FixedEffectsSpec(satisfaction, tuple(drivers), cluster="team")
    rev_spec = FixedEffectsSpec(f"log_{revenue}", (indicator,), cluster="team")

    def estimate(sat: pd.DataFrame, rev: pd.DataFrame) -> tuple[float, float]:
        beta = pyfixest_fit(sat, satisfaction, drivers, spec, team_fe=True, period_fe=True, intercept=True).params[habit]
        lam = pyfixest_fit(rev, f"log_{revenue}", [indicator], rev_spec, team_fe=True, period_fe=True, intercept=True).params[indicator]
        return float(beta), float(lam)

    def replicate(sat: pd.DataFrame, rev: pd.DataFrame) -> tuple[float, float]:
        """The same two slopes for a bootstrap resample, from demeaned least squares (no standard errors needed)."""
        return float(within_slopes(sat, satisfaction, drivers)[habit]), float(within_slopes(rev, f"log_{revenue}", [indicator])[indicator])

    last_t = np.sort(with_columns.data["t"].unique())[-ppy:]
    window = with_columns.data[with_columns.data["t"].isin(last_t)].dropna(subset=[satisfaction, revenue])
    scale = ppy / len(last_t)
    for name, fit in (("habit", fixed_effects(with_columns, satisfaction, drivers, cluster=None)), ("threshold", fixed_effects(with_columns, f"log_{revenue}", [indicator], cluster=None))):
        missing = {t: r for t, r in fit.not_identified.items() if t in (habit, indicator)}
        if missing:
            raise SpecificationError(f"the {name} link of the chain is not identified: " + "; ".join(f"{t} is {r}" for t, r in missing.items()))
    beta, lam = estimate(sat_frame, rev_frame)
    point, before, after = _chain_lift(beta, lam, window, satisfaction, revenue, habit_change, threshold, scale)

    rng = np.random.default_rng(seed)
    teams = sat_frame.index.get_level_values("team").unique().to_numpy()
    window_frame = window.reset_index(level="period", drop=True).set_index("t", append=True)
    samplers = [TeamResampler(f) for f in (sat_frame, rev_frame, window_frame)]
    draws, failed = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in tqdm(range(bootstrap_reps), desc="habit -> revenue bootstrap", disable=not progress, leave=False):
            draw = rng.choice(teams, size=len(teams), replace=True)
            sat_b, rev_b, win_b = (sampler.sample(draw) for sampler in samplers)
            try:
                b, lam_b = replicate(sat_b, rev_b)
            except (ValueError, KeyError, np.linalg.LinAlgError):  # a resample in which a link is not identified
                failed += 1
                continue
            draws.append(_chain_lift(b, lam_b, win_b, satisfaction, revenue, habit_change, threshold, scale)[0])
    notes = _replicate_notes(failed, bootstrap_reps, threshold)
    components = {
        "satisfaction per habit point": beta,
        "log revenue lift at threshold": lam,
        "share at or above threshold (window, before)": before,
        "share at or above threshold (window, after)": after,
    }
    labels = (panel.period_label(last_t[0]), panel.period_label(last_t[-1]))
    return HabitRevenueChain(habit_change, threshold, point, np.asarray(draws), confidence_level, components, labels, ppy, len(teams), notes)


def _replicate_notes(failed: int, bootstrap_reps: int, threshold: float) -> list[str]:
    """Say how many bootstrap replicates could not identify a link; refuse when too few are left for an interval."""
    if not failed:
        return []
    message = (
        f"{failed} of {bootstrap_reps} bootstrap replicates could not identify a link of the chain (in those resamples of teams "
        f"no or every team-period is at or above {threshold:g}, or the habit index does not vary); they are left out"
    )
    if bootstrap_reps - failed < 2:
        raise SpecificationError(message + ", and too few are left for an interval")
    warnings.warn(message + ("; with more than 10% left out the interval is unreliable" if failed > 0.1 * bootstrap_reps else ""), EstimationWarning, stacklevel=3)
    return [message]
