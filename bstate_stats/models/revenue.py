"""Revenue: the lift of holding satisfaction at or above the threshold, and the habit -> revenue chain."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bstate_stats.errors import ColumnError, EstimationWarning, SpecificationError
from bstate_stats.models.fixed_effects.engines import pyfixest_fit
from bstate_stats.models.fixed_effects.estimate import fixed_effects
from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.models.fixed_effects.spec import Cluster, Effects, FixedEffectsSpec
from bstate_stats.panel.panel import Panel
from bstate_stats.results.base import RendersSummary


@dataclass(frozen=True)
class RevenueResults(RendersSummary):
    """Fixed-effects regression of log revenue on being at or above the threshold.

    ``lift`` is the relative revenue change of a team-period at or above the
    threshold, ``exp(b) - 1``, with the interval transformed the same way.
    """

    fit: FixedEffectsResults
    indicator: str
    threshold: float

    title = "Revenue lift of satisfaction at or above the threshold"

    @property
    def lift(self) -> pd.Series:
        """``estimate, conf_low, conf_high`` of the relative lift (0.5 = +50%)."""
        interval = self.fit.conf_int().loc[self.indicator]
        return pd.Series({"estimate": np.expm1(self.fit.params[self.indicator]), "conf_low": np.expm1(interval["conf_low"]), "conf_high": np.expm1(interval["conf_high"])})

    def summary(self) -> pd.DataFrame:
        table = self.fit.summary()
        lift = self.lift
        extra = pd.DataFrame([{"term": f"lift of {self.indicator} (exp(b) - 1)", "estimate": lift["estimate"], "conf_low": lift["conf_low"], "conf_high": lift["conf_high"], "note": "relative change in revenue"}])
        return pd.concat([table, extra], ignore_index=True)

    def notes(self) -> list[str]:
        return self.fit.notes()


def _revenue_panel(panel: Panel, revenue: str, satisfaction: str, threshold: float) -> tuple[Panel, str]:
    values = panel.data[revenue]
    log_revenue = np.log(values.where(values > 0))
    indicator = f"{satisfaction}_at_or_above_{threshold:g}"
    above = (panel.data[satisfaction] >= threshold).astype(float).where(panel.data[satisfaction].notna())
    return panel.with_columns({f"log_{revenue}": log_revenue, indicator: above}), indicator


def revenue_model(
    panel: Panel,
    *,
    revenue: str = "revenue",
    satisfaction: str = "csat",
    threshold: float = 8.0,
    include_level: bool = False,
    effects: Effects = "twoway",
    cluster: Cluster = "team",
    level: float = 0.95,
    bootstrap_reps: int = 999,
    seed: int = 0,
) -> RevenueResults:
    r"""Percentage revenue lift of a team-period at or above the satisfaction threshold.

    .. math:: \log R_{it} = \alpha_i + \delta_t + \lambda \, 1[s_{it} \ge c] \; (+ \kappa s_{it}) + e_{it}

    Rows with zero revenue have no logarithm: they are excluded and counted in
    the ledger ("missing log_revenue"). ``include_level`` adds the
    satisfaction level, so that the lift is the jump at the threshold beyond
    a linear trend in satisfaction.

    Notes
    -----
    Estimand: within a team, how much higher revenue is in periods at or above
    the threshold than in its other periods (net of period shocks). Causal only
    if nothing else that moves revenue also moves satisfaction across the threshold.
    """
    for column in (revenue, satisfaction):
        if column not in panel.data:
            raise ColumnError(f"{column!r} is not in the panel (revenue_model needs a revenue column and a satisfaction score)")
    with_columns, indicator = _revenue_panel(panel, revenue, satisfaction, threshold)
    if with_columns.data[indicator].dropna().nunique() < 2:
        raise SpecificationError(f"{satisfaction} never crosses {threshold:g}: the revenue lift of the threshold is not identified")
    drivers = [indicator, *([satisfaction] if include_level else [])]
    fit = fixed_effects(with_columns, f"log_{revenue}", drivers, effects=effects, cluster=cluster, level=level, bootstrap_reps=bootstrap_reps, seed=seed)
    if indicator in fit.not_identified:
        raise SpecificationError(f"the threshold indicator is not identified: {fit.not_identified[indicator]}")
    return RevenueResults(fit, indicator, threshold)


@dataclass(frozen=True)
class HabitRevenueChain(RendersSummary):
    """Annual revenue lift that follows a habit change through satisfaction at or above the threshold.

    ``draws`` are team-cluster bootstrap replicates of the annual lift.
    """

    habit_change: float
    threshold: float
    estimate: float
    draws: np.ndarray
    level: float
    components: dict[str, float]
    window: tuple
    periods_per_year: int
    n_teams: int
    notes_: list[str] = field(default_factory=list)

    title = "Annual revenue lift from a habit change"

    @property
    def interval(self) -> tuple[float, float]:
        tail = (1 - self.level) / 2
        return float(np.quantile(self.draws, tail)), float(np.quantile(self.draws, 1 - tail))

    @property
    def prob_positive(self) -> float:
        """Share of bootstrap replicates with a positive lift."""
        return float(np.mean(self.draws > 0))

    def summary(self) -> pd.DataFrame:
        low, high = self.interval
        rows = [{"quantity": "annual revenue lift", "estimate": self.estimate, "median": float(np.median(self.draws)), "conf_low": low, "conf_high": high, "prob_positive": self.prob_positive}]
        rows += [{"quantity": k, "estimate": v} for k, v in self.components.items()]
        return pd.DataFrame(rows)

    def notes(self) -> list[str]:
        return [
            f"Habit index +{self.habit_change:g} points for every team; reference window {self.window[0]} .. {self.window[1]} ({self.periods_per_year} periods per year)",
            f"{self.level:.0%} team-cluster bootstrap interval from {len(self.draws)} replicates over {self.n_teams} teams",
            *self.notes_,
        ]


def _chain_lift(habit_effect: float, log_lift: float, window: pd.DataFrame, satisfaction: str, revenue: str, habit_change: float, threshold: float, scale: float) -> tuple[float, float, float]:
    """Annual lift and the share at or above the threshold before and after the habit change."""
    score = window[satisfaction].to_numpy()
    shifted = score + habit_effect * habit_change
    crosses = (score < threshold) & (shifted >= threshold)
    lift = float(np.sum(crosses * window[revenue].to_numpy()) * np.expm1(log_lift) * scale)
    return lift, float(np.mean(score >= threshold)), float(np.mean(shifted >= threshold))


class _TeamResampler:
    """Team-cluster bootstrap samples of a frame indexed by (team, t): teams drawn with replacement, each copy a distinct team."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.positions = frame.groupby(level="team", sort=False).indices
        self.t = frame.index.get_level_values("t").to_numpy()

    def sample(self, draw: np.ndarray) -> pd.DataFrame:
        chosen = [self.positions.get(team, np.array([], dtype=int)) for team in draw]
        rows = np.concatenate(chosen)
        labels = np.repeat([f"{team}#{k}" for k, team in enumerate(draw)], [len(c) for c in chosen])
        index = pd.MultiIndex.from_arrays([labels, self.t[rows]], names=["team", "t"])
        return self.frame.iloc[rows].set_axis(index)


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
    level: float = 0.95,
    reps: int = 200,
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
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
        raise SpecificationError(f"reps={reps!r}; the bootstrap interval needs at least 2 replicates (200 or more for a 95% interval)")
    controls = [controls] if isinstance(controls, str) else list(controls)
    for column in (revenue, satisfaction, habit, *controls):
        if column not in panel.data:
            raise ColumnError(f"{column!r} is not in the panel (habit_to_revenue uses satisfaction={satisfaction!r}, habit={habit!r}, controls={controls}, revenue={revenue!r})")
    with_columns, indicator = _revenue_panel(panel, revenue, satisfaction, threshold)
    if with_columns.data[indicator].dropna().nunique() < 2:
        raise SpecificationError(f"{satisfaction} never crosses {threshold:g}: the revenue lift of the threshold is not identified")
    drivers = [habit, *controls]
    sat_frame = with_columns.model_frame(satisfaction, drivers).data
    rev_frame = with_columns.model_frame(f"log_{revenue}", [indicator]).data
    spec = FixedEffectsSpec(satisfaction, tuple(drivers), cluster="team")
    rev_spec = FixedEffectsSpec(f"log_{revenue}", (indicator,), cluster="team")

    def estimate(sat: pd.DataFrame, rev: pd.DataFrame) -> tuple[float, float]:
        beta = pyfixest_fit(sat, satisfaction, drivers, spec, team_fe=True, period_fe=True, intercept=True).params[habit]
        lam = pyfixest_fit(rev, f"log_{revenue}", [indicator], rev_spec, team_fe=True, period_fe=True, intercept=True).params[indicator]
        return float(beta), float(lam)

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
    samplers = [_TeamResampler(f) for f in (sat_frame, rev_frame, window_frame)]
    draws, failed = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in tqdm(range(reps), desc="habit -> revenue bootstrap", disable=not progress, leave=False):
            draw = rng.choice(teams, size=len(teams), replace=True)
            sat_b, rev_b, win_b = (sampler.sample(draw) for sampler in samplers)
            try:
                b, l = estimate(sat_b, rev_b)
            except (ValueError, KeyError, np.linalg.LinAlgError):  # a resample in which a link is not identified
                failed += 1
                continue
            draws.append(_chain_lift(b, l, win_b, satisfaction, revenue, habit_change, threshold, scale)[0])
    notes = _replicate_notes(failed, reps, threshold)
    components = {
        "satisfaction per habit point": beta,
        "log revenue lift at threshold": lam,
        "share at or above threshold (window, before)": before,
        "share at or above threshold (window, after)": after,
    }
    labels = (panel.period_label(last_t[0]), panel.period_label(last_t[-1]))
    return HabitRevenueChain(habit_change, threshold, point, np.asarray(draws), level, components, labels, ppy, len(teams), notes)


def _replicate_notes(failed: int, reps: int, threshold: float) -> list[str]:
    """Say how many bootstrap replicates could not identify a link; refuse when too few are left for an interval."""
    if not failed:
        return []
    message = (
        f"{failed} of {reps} bootstrap replicates could not identify a link of the chain (in those resamples of teams "
        f"no or every team-period is at or above {threshold:g}, or the habit index does not vary); they are left out"
    )
    if reps - failed < 2:
        raise SpecificationError(message + ", and too few are left for an interval")
    warnings.warn(message + ("; with more than 10% left out the interval is unreliable" if failed > 0.1 * reps else ""), EstimationWarning, stacklevel=3)
    return [message]
