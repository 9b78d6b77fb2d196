"""Data-generating processes with known truth, shared by tests, examples and docs.

:func:`case_study` is shaped after the reference case: a call centre whose
satisfaction rose from below 6/10 to above 8.0 within six months of a habits
programme, with about 61% of habit items improving, half to four fifths of
employees reporting better relationships, and programme revenue doubling from
about $500k a year once satisfaction held at or above 8.0.

The model, for team i in region r and period t::

    habit item k:   h_ikt = base_ik + gain_ik * ramp_t * programme_i + noise   (percent 0-100)
    habit_index_it = mean_k h_ikt                          (computed as the package computes it)
    relationship_index_it likewise from Likert items
    csat_it = mu + a_r + a_i + d_t + beta_i * (habit_index_it - H0) / 10
              + gamma * (relationship_index_it - R0) / 10 + e_it,   e_it ~ N(0, sigma)
    beta_i  = beta + b_r + b_i
    revenue_it = base_i * exp(lambda * 1[csat_it >= 8] + u_it)

Churn (customers lost of customers served), attrition, absence and the cost to
serve follow from the same indices with known log rate ratios
(:mod:`bstate_stats.simulate.outcomes`); ``churn`` is customers lost / customers.

Satisfaction is generated from the *observed* indices, so a regression of
csat on habit_index and relationship_index has exactly the stated truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bstate_stats.errors import SpecificationError
from bstate_stats.io.atomic import frame_writer, text_writer, write_all_or_none
from bstate_stats.panel.panel import Panel
from bstate_stats.simulate.outcomes import FURTHER_OUTCOMES, further_outcomes

HABIT_NAMES = (
    "daily_huddle", "callback_within_24h", "warm_transfer", "case_notes_complete", "weekly_review",
    "peer_coaching", "knowledge_base_update", "first_call_ownership", "escalation_protocol", "customer_recap",
    "queue_rebalancing", "shift_handover",
)
RELATIONSHIP_NAMES = ("trust_between_teams", "help_across_teams", "customer_focus", "feedback_openness", "shared_goals")
REGION_NAMES = ("North", "South", "East", "West", "Central", "Coast", "Valley", "Highlands")
THRESHOLD = 8.0


@dataclass(frozen=True)
class CaseStudyParameters:
    """Parameters of :func:`case_study`; effects are per +10 index points on the 0-10 satisfaction scale."""

    n_regions: int = 4
    teams_per_region: int = 6
    n_periods: int = 18
    start_period: str = "2024-01"
    programme_regions: int = 2
    programme_start: int = 6
    ramp_periods: int = 6
    n_habits: int = 10
    share_habits_improving: float = 0.61
    habit_gain: float = 40.0
    habit_decay: float = 5.0
    habit_baseline: float = 40.0
    habit_team_sd: float = 5.0
    habit_item_sd: float = 3.0
    n_relationship_items: int = 4
    relationship_baseline: float = 40.0
    relationship_gain: float = 25.0
    relationship_noise_sd: float = 3.0
    baseline_csat: float = 5.8
    habit_effect: float = 1.0
    relationship_effect: float = 0.25
    region_sd: float = 0.2
    team_sd: float = 0.3
    region_slope_sd: float = 0.1
    team_slope_sd: float = 0.1
    period_sd: float = 0.05
    noise_sd: float = 0.3
    programme_revenue_per_year: float = 500_000.0
    revenue_log_lift: float = float(np.log(2.0))
    revenue_team_sd: float = 0.1
    revenue_noise_sd: float = 0.05
    customers_per_team: float = 2000.0
    headcount_per_team: float = 20.0
    working_days: int = 21
    churn_base: float = 0.05
    attrition_base: float = 0.02
    absence_base: float = 0.04
    cost_base: float = 6.0
    churn_habit_effect: float = -0.15
    churn_relationship_effect: float = 0.0
    attrition_habit_effect: float = -0.05
    attrition_relationship_effect: float = -0.25
    absence_habit_effect: float = -0.05
    absence_relationship_effect: float = -0.15
    cost_habit_effect: float = -0.04
    cost_relationship_effect: float = 0.0
    outcome_team_sd: float = 0.2
    outcome_period_sd: float = 0.03
    cost_noise_sd: float = 0.05

    def __post_init__(self) -> None:
        if self.n_regions < 1 or self.teams_per_region < 1 or self.n_periods < 2:
            raise SpecificationError("need at least one region, one team per region and two periods")
        if not 0 <= self.programme_regions <= self.n_regions:
            raise SpecificationError("programme_regions must be between 0 and n_regions")
        if not 1 <= self.n_habits <= len(HABIT_NAMES) or not 1 <= self.n_relationship_items <= len(RELATIONSHIP_NAMES):
            raise SpecificationError(f"n_habits must be 1..{len(HABIT_NAMES)}, n_relationship_items 1..{len(RELATIONSHIP_NAMES)}")


@dataclass(frozen=True)
class CaseStudyTruth:
    """The known truth behind a simulated case study.

    Effects are in satisfaction points per +10 points of the index. ``team_habit_effects``
    and ``region_habit_effects`` are the realised slopes; ``habit_effect`` is the population mean.
    ``outcome_effects`` holds, per further outcome (``customers_lost``, ``leavers``, ``absence_days``,
    ``cost_to_serve``), the log rate ratio (log cost ratio) per +10 points of each index, and
    ``outcome_baselines`` the rate (cost) of a team at the reference indices.
    """

    habit_effect: float
    relationship_effect: float
    region_habit_effects: dict[str, float]
    team_habit_effects: dict[str, float]
    region_intercepts: dict[str, float]
    team_intercepts: dict[str, float]
    noise_sd: float
    threshold: float
    revenue_log_lift: float
    programme_teams: list[str]
    programme_start: str
    share_habits_improving: float
    programme_revenue_before: float
    programme_revenue_after: float
    latent_csat_sd: float = field(default=0.0)
    outcome_effects: dict[str, dict[str, float]] = field(default_factory=dict)
    outcome_baselines: dict[str, float] = field(default_factory=dict)

    @property
    def revenue_lift(self) -> float:
        """Relative revenue lift of being at or above the threshold (1.0 = +100%)."""
        return float(np.expm1(self.revenue_log_lift))

    def to_dict(self) -> dict:
        return asdict(self) | {"revenue_lift": self.revenue_lift}


@dataclass(frozen=True)
class CaseStudy:
    """Simulated tables and the truth that generated them."""

    deliverables: pd.DataFrame
    habits: pd.DataFrame
    relationships: pd.DataFrame
    truth: CaseStudyTruth
    parameters: CaseStudyParameters
    seed: int
    latent: pd.DataFrame  # per row: expected csat (without noise) and the realised noise

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {"deliverables": self.deliverables, "habits": self.habits, "relationships": self.relationships}

    def panel(self) -> Panel:
        """The validated :class:`~bstate_stats.panel.panel.Panel` of these tables."""
        return Panel.from_frames(self.deliverables, self.habits, self.relationships)

    def true_revenue_lift(self, habit_change: float = 10.0, *, periods_per_year: int = 12) -> float:
        """True expected annual revenue lift (organisation, last ``periods_per_year`` periods) of a habit change.

        Each row's chance of reaching the threshold rises from P(mu) to
        P(mu + slope * change / 10); a row that crosses earns its base revenue
        times ``exp(lambda) - 1`` more. Rows already at or above the threshold gain nothing more.
        """
        latent = self.latent
        window = latent["period"].isin(sorted(latent["period"].unique())[-periods_per_year:])
        mu = latent.loc[window, "expected_csat"]
        shifted = mu + latent.loc[window, "habit_slope"] * habit_change / 10
        gain = prob_above(shifted, self.truth.noise_sd) - prob_above(mu, self.truth.noise_sd)
        per_period = (gain * latent.loc[window, "base_revenue"] * self.truth.revenue_lift).sum() / window.groupby(latent["period"]).any().sum()
        return float(per_period * periods_per_year)

    def write(self, directory: str | Path, *, format: str = "csv", overwrite: bool = False) -> list[Path]:
        """Write the three tables, ``truth.json`` and ``parameters.json`` atomically.

        Parameters
        ----------
        directory
            Target folder (created when missing).
        format
            ``"csv"``, ``"parquet"`` or ``"excel"``.
        overwrite
            Replace files of the same names that hold other content; without it
            such files are never touched and nothing is written.

        Returns
        -------
        list of Path
            The files written.
        """
        directory = Path(directory)
        suffix = {"csv": ".csv", "parquet": ".parquet", "excel": ".xlsx"}[format]
        meta = {"seed": self.seed, "parameters": asdict(self.parameters)}
        writers: dict[Path, Callable[[Path], object]] = {directory / f"{name}{suffix}": frame_writer(frame, suffix) for name, frame in self.tables.items()}
        writers[directory / "truth.json"] = text_writer(json.dumps(self.truth.to_dict(), indent=2, sort_keys=True) + "\n")
        writers[directory / "parameters.json"] = text_writer(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return write_all_or_none(writers, overwrite=overwrite)


def _layout(p: CaseStudyParameters) -> tuple[pd.DataFrame, list[str]]:
    regions = [REGION_NAMES[r] if r < len(REGION_NAMES) else f"Region{r + 1}" for r in range(p.n_regions)]
    rows = [
        {"team": f"{region[:2].upper() if r < len(REGION_NAMES) else f'R{r + 1}-'}{k + 1:02d}", "region": region, "programme": r < p.programme_regions}
        for r, region in enumerate(regions)
        for k in range(p.teams_per_region)
    ]
    return pd.DataFrame(rows), regions


def _ramp(p: CaseStudyParameters) -> np.ndarray:
    t = np.arange(p.n_periods)
    return np.clip((t - p.programme_start + 1) / p.ramp_periods, 0.0, 1.0)


def _habits(rng: np.random.Generator, p: CaseStudyParameters, teams: pd.DataFrame, ramp: np.ndarray) -> np.ndarray:
    """Habit item scores, shape (team, period, item), percent 0-100 rounded to 0.1."""
    n_teams = len(teams)
    base = p.habit_baseline + rng.normal(0, p.habit_team_sd, (n_teams, 1, 1)) + rng.normal(0, 8.0, (n_teams, 1, p.n_habits))
    improving = rng.random((n_teams, 1, p.n_habits)) < p.share_habits_improving
    treated = teams["programme"].to_numpy()[:, None, None]
    change = np.where(improving, p.habit_gain, -p.habit_decay) * ramp[None, :, None] * treated
    noise = rng.normal(0, p.habit_item_sd, (n_teams, p.n_periods, p.n_habits))
    return np.round(np.clip(base + change + noise, 0, 100), 1)


def _relationships(rng: np.random.Generator, p: CaseStudyParameters, teams: pd.DataFrame, ramp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Team-mean Likert items (team, period, item), respondent counts and share reporting improvement."""
    n_teams = len(teams)
    treated = teams["programme"].to_numpy()[:, None]
    level = p.relationship_baseline + rng.normal(0, 5.0, (n_teams, 1)) + p.relationship_gain * ramp[None, :] * treated
    percent = level[:, :, None] + rng.normal(0, 4.0, (1, 1, p.n_relationship_items)) + rng.normal(0, p.relationship_noise_sd, (n_teams, p.n_periods, p.n_relationship_items))
    likert = np.round(np.clip(1 + 4 * percent / 100, 1, 5), 2)
    respondents = rng.poisson(12, (n_teams, p.n_periods)) + 3
    share = np.clip(0.15 + (0.5 + 0.3 * ramp[None, :]) * (ramp[None, :] > 0) * treated - 0.15 * treated * (ramp[None, :] > 0) + rng.normal(0, 0.04, (n_teams, p.n_periods)), 0, 1)
    return likert, respondents, np.round(share, 3)


def case_study(seed: int = 7, **parameters) -> CaseStudy:
    """Simulate the reference case: three tables and the truth behind them.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed and parameters give identical tables.
    **parameters
        Any field of :class:`CaseStudyParameters` (e.g. ``n_regions=6, team_slope_sd=0``).

    Returns
    -------
    CaseStudy
        ``deliverables``, ``habits``, ``relationships``, ``truth``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecificationError(f"seed={seed!r}; a seed is a whole number, 0 or more")
    unknown = sorted(set(parameters) - {f.name for f in fields(CaseStudyParameters)})
    if unknown:
        raise SpecificationError(f"unknown case-study parameter(s) {unknown}; see CaseStudyParameters")
    p = CaseStudyParameters(**parameters)
    rng = np.random.default_rng(seed)
    teams, regions = _layout(p)
    n_teams = len(teams)
    ramp = _ramp(p)
    periods = pd.period_range(p.start_period, periods=p.n_periods, freq="M").astype(str).tolist()

    habit_items = _habits(rng, p, teams, ramp)
    habit_index = habit_items.mean(axis=2)
    likert, respondents, share_improved = _relationships(rng, p, teams, ramp)
    relationship_index = ((likert - 1) / 4 * 100).mean(axis=2)

    region_of = teams["region"].map({r: k for k, r in enumerate(regions)}).to_numpy()
    region_intercept = rng.normal(0, p.region_sd, p.n_regions)
    team_intercept = rng.normal(0, p.team_sd, n_teams)
    region_slope = p.habit_effect + rng.normal(0, p.region_slope_sd, p.n_regions)
    team_slope = region_slope[region_of] + rng.normal(0, p.team_slope_sd, n_teams)
    period_effect = rng.normal(0, p.period_sd, p.n_periods)
    habit_reference = habit_index[:, : max(p.programme_start, 1)].mean()
    relationship_reference = relationship_index[:, : max(p.programme_start, 1)].mean()

    expected = (
        p.baseline_csat
        + region_intercept[region_of][:, None]
        + team_intercept[:, None]
        + period_effect[None, :]
        + team_slope[:, None] * (habit_index - habit_reference) / 10
        + p.relationship_effect * (relationship_index - relationship_reference) / 10
    )
    noise = rng.normal(0, p.noise_sd, expected.shape)
    csat = np.clip(expected + noise, 0, 10)

    treated = teams["programme"].to_numpy()
    team_base = p.programme_revenue_per_year / 12 / max(treated.sum(), 1) * np.exp(rng.normal(0, p.revenue_team_sd, n_teams) - p.revenue_team_sd**2 / 2)
    revenue_noise = rng.normal(0, p.revenue_noise_sd, csat.shape) - p.revenue_noise_sd**2 / 2
    revenue = team_base[:, None] * np.exp(p.revenue_log_lift * (csat >= THRESHOLD) + revenue_noise)

    def flat(values: np.ndarray) -> np.ndarray:
        return values.reshape(-1)

    keys = pd.DataFrame(
        {
            "team": np.repeat(teams["team"].to_numpy(), p.n_periods),
            "region": np.repeat(teams["region"].to_numpy(), p.n_periods),
            "period": np.tile(periods, n_teams),
        }
    )
    deliverables = keys.assign(
        csat=np.round(flat(csat), 3),
        csat_right_person=np.round(np.clip(flat(csat) + rng.normal(0, 0.4, csat.size), 0, 10), 3),
        service_level=np.round(np.clip(0.62 + 0.04 * (flat(csat) - p.baseline_csat) + rng.normal(0, 0.03, csat.size), 0, 1), 3),
        handle_time=np.round(np.clip(380 - 12 * (flat(csat) - p.baseline_csat) + rng.normal(0, 15, csat.size), 60, None), 1),
        fcr=np.round(np.clip(0.60 + 0.05 * (flat(csat) - p.baseline_csat) + rng.normal(0, 0.03, csat.size), 0, 1), 3),
        revenue=np.round(flat(revenue), 2),
    )
    habit_change = flat(habit_index - habit_reference) / 10
    relationship_change = flat(relationship_index - relationship_reference) / 10
    further = further_outcomes(rng, p, keys, habit_change, relationship_change)
    deliverables = pd.concat([deliverables.drop(columns="revenue"), further, deliverables[["revenue"]]], axis=1)
    habit_names = list(HABIT_NAMES[: p.n_habits])
    habits = keys[["team", "period"]].join(pd.DataFrame(habit_items.reshape(-1, p.n_habits), columns=habit_names))
    relationship_names = list(RELATIONSHIP_NAMES[: p.n_relationship_items])
    relationships = keys[["team", "period"]].assign(n_respondents=flat(respondents), share_improved=flat(share_improved))
    relationships = relationships.join(pd.DataFrame(likert.reshape(-1, p.n_relationship_items), columns=relationship_names))

    programme_teams = teams.loc[treated, "team"].tolist()
    annual = deliverables.assign(month=np.tile(np.arange(p.n_periods), n_teams))
    in_programme = annual["team"].isin(programme_teams)
    before = annual.loc[in_programme & (annual["month"] < p.programme_start), "revenue"].sum() / max(p.programme_start, 1) * 12
    last_months = annual["month"] >= p.n_periods - 3
    after = annual.loc[in_programme & last_months, "revenue"].sum() / 3 * 12
    truth = CaseStudyTruth(
        habit_effect=p.habit_effect,
        relationship_effect=p.relationship_effect,
        region_habit_effects=dict(zip(regions, region_slope.round(6).tolist())),
        team_habit_effects=dict(zip(teams["team"], team_slope.round(6).tolist())),
        region_intercepts=dict(zip(regions, region_intercept.round(6).tolist())),
        team_intercepts=dict(zip(teams["team"], team_intercept.round(6).tolist())),
        noise_sd=p.noise_sd,
        threshold=THRESHOLD,
        revenue_log_lift=p.revenue_log_lift,
        programme_teams=programme_teams,
        programme_start=periods[min(p.programme_start, p.n_periods - 1)],
        share_habits_improving=p.share_habits_improving,
        programme_revenue_before=float(before),
        programme_revenue_after=float(after),
        outcome_effects={outcome: {"habit_index": getattr(p, f"{stem}_habit_effect"), "relationship_index": getattr(p, f"{stem}_relationship_effect")} for outcome, stem in FURTHER_OUTCOMES.items()},
        outcome_baselines={outcome: getattr(p, f"{stem}_base") for outcome, stem in FURTHER_OUTCOMES.items()},
    )
    latent = keys.assign(
        expected_csat=flat(expected),
        noise=flat(noise),
        habit_index=flat(habit_index),
        relationship_index=flat(relationship_index),
        habit_slope=np.repeat(team_slope, p.n_periods),
        base_revenue=flat(team_base[:, None] * np.exp(revenue_noise)),
    )
    return CaseStudy(deliverables, habits, relationships, truth, p, seed, latent)


def prob_above(expected: np.ndarray, noise_sd: float, threshold: float = THRESHOLD) -> np.ndarray:
    """True P(score >= threshold) for rows with the given expected score and Normal noise."""
    return stats.norm.sf(threshold, loc=expected, scale=noise_sd)
