"""Within-team (repeated-measures) correlations with team-cluster bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, permutations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bstate_stats.errors import ColumnError, SpecificationError
from bstate_stats.inference.resampling import team_bootstrap_counts
from bstate_stats.models.correlations.results import CorrelationResults, PairData
from bstate_stats.models.fixed_effects.engines import demean_two_way
from bstate_stats.panel.panel import Panel


def within_team_correlations(
    panel: Panel,
    columns: Sequence[str] | None = None,
    *,
    lags: Sequence[int] = (0, 1),
    period_effects: bool = False,
    confidence_level: float = 0.95,
    bootstrap_reps: int = 999,
    seed: int = 0,
    progress: bool = False,
) -> CorrelationResults:
    r"""Correlations of the columns within teams over time, same period and lagged, with team-bootstrap intervals.

    For a pair :math:`(x, y)` at lag :math:`k`, the correlation is taken
    between :math:`x_{g,t-k}` and :math:`y_{g,t}` after each team's mean
    (and, with ``period_effects``, each period's mean) is swept out:

    .. math:: r = \frac{\sum_{g,t} \tilde x_{gt} \tilde y_{gt}}{\sqrt{\sum \tilde x_{gt}^2 \sum \tilde y_{gt}^2}}

    the repeated-measures correlation of Bakdash and Marusich (2017), i.e. the
    partial correlation given team dummies. Lag 0 gives each unordered pair;
    lag k > 0 each ordered pair (x earlier, y later), both directions.

    Parameters
    ----------
    panel
        A validated panel.
    columns
        Columns to correlate; default: the first outcome, habit and relationship indices.
    lags
        Lags in grid steps; a lagged value is missing at a team's start and after a gap.
    period_effects
        Also sweep out period means: a company-wide trend does not count as co-movement.
    confidence_level
        Level of the intervals (Fisher z, bootstrap standard error, t with teams - 1 degrees of freedom).
    bootstrap_reps
        Team-cluster bootstrap replicates (the same draws for every pair).
    seed
        Seed of the bootstrap.
    progress
        Show a progress bar (two-way demeaning only; team demeaning is one matrix product).

    Returns
    -------
    CorrelationResults
        ``summary()`` with one row per pair and lag: estimate, bootstrap standard
        error, interval and p-value, rows and teams used.

    Notes
    -----
    An association, not an effect. Whole teams are resampled, so intervals hold
    when a team's periods are serially correlated (rmcorr's analytic one does not).
    """
    columns = list(columns) if columns is not None else [c for c in (*panel.outcomes[:1], "habit_index", "relationship_index") if c in panel.data]
    _check(panel, columns, lags, confidence_level, bootstrap_reps)
    teams = pd.Index(panel.teams)
    pairs = tuple(_pair_data(panel, teams, x, y, lag) for lag in lags for x, y in (combinations(columns, 2) if lag == 0 else permutations(columns, 2)))
    counts = team_bootstrap_counts(len(teams), bootstrap_reps, seed)
    estimates, replicates = (_two_way if period_effects else _team_only)(pairs, counts, progress)
    return CorrelationResults(pairs=pairs, estimates=estimates, replicates=replicates, confidence_level=confidence_level, period_effects=period_effects, seed=seed)


def _team_only(pairs: tuple[PairData, ...], counts: np.ndarray, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and replicates with team means removed: a copy of a team keeps its demeaned rows, so each replicate is counts @ per-team sums."""
    stats = [_team_sums(pair, counts.shape[1]) for pair in pairs]
    return np.array([_r(s.sum(axis=0)) for s in stats]), np.column_stack([_r((counts @ s).T) for s in stats])


def _two_way(pairs: tuple[PairData, ...], counts: np.ndarray, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and replicates with team and period means removed, demeaning every bootstrap sample anew."""
    estimates = np.array([_two_way_r(pair.x, pair.y, pair.team, pair.period) for pair in pairs])
    return estimates, np.column_stack([_two_way_replicates(pair, counts, progress) for pair in pairs])


def _check(panel: Panel, columns: list[str], lags: Sequence[int], confidence_level: float, bootstrap_reps: int) -> None:
    missing = [c for c in columns if c not in panel.data]
    if missing:
        raise ColumnError(f"cannot correlate {', '.join(missing)}: not in the panel (columns: {', '.join(map(str, panel.data.columns))})")
    if len(set(columns)) < len(columns):
        raise SpecificationError(f"a column is listed twice: {columns}; a column's correlation with itself is 1 and says nothing")
    if len(columns) < 2:
        raise SpecificationError(f"within-team correlations need at least two columns, got {columns}")
    if any(int(lag) != lag or lag < 0 for lag in lags) or not lags:
        raise SpecificationError(f"lags must be whole numbers >= 0, got {list(lags)}")
    if not 0 < confidence_level < 1:
        raise SpecificationError(f"confidence_level must be between 0 and 1, got {confidence_level}")
    if bootstrap_reps < 2:
        raise SpecificationError(f"bootstrap_reps must be at least 2, got {bootstrap_reps}")


def _pair_data(panel: Panel, teams: pd.Index, x: str, y: str, lag: int) -> PairData:
    """The rows of one pair with x (lagged) and y present, through the panel's model frame, whose ledger counts the rest."""
    frame = panel.model_frame(y, [x], lags={x: int(lag)} if lag else None)
    data = frame.data
    team = teams.get_indexer(data.index.get_level_values("team"))
    period = pd.factorize(data.index.get_level_values("t"))[0]
    return PairData(x, y, int(lag), data[frame.drivers[0]].to_numpy(dtype=float), data[y].to_numpy(dtype=float), team, period, frame.ledger)


def _team_sums(pair: PairData, n_teams: int) -> np.ndarray:
    """Per team: sums of squares and cross-products of the team-demeaned x and y (n_teams x 3)."""
    size = np.bincount(pair.team, minlength=n_teams)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = pair.x - (np.bincount(pair.team, pair.x, n_teams) / size)[pair.team]
        y = pair.y - (np.bincount(pair.team, pair.y, n_teams) / size)[pair.team]
    return np.column_stack([np.bincount(pair.team, x * y, n_teams), np.bincount(pair.team, x * x, n_teams), np.bincount(pair.team, y * y, n_teams)])


def _r(sums: np.ndarray) -> np.ndarray:
    """Correlation from summed cross-products (xy, xx, yy along the first axis); NaN where a variance is zero."""
    xy, xx, yy = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((xx > 0) & (yy > 0), xy / np.sqrt(xx * yy), np.nan)


def _two_way_r(x: np.ndarray, y: np.ndarray, team: np.ndarray, period: np.ndarray) -> float:
    demeaned = demean_two_way(np.column_stack([x, y]), team, period)
    return float(_r(np.array([demeaned[:, 0] @ demeaned[:, 1], demeaned[:, 0] @ demeaned[:, 0], demeaned[:, 1] @ demeaned[:, 1]])))


def _two_way_replicates(pair: PairData, counts: np.ndarray, progress: bool) -> np.ndarray:
    """The two-way correlation on each bootstrap sample, each copy of a team a team of its own."""
    rows_of = [np.flatnonzero(pair.team == g) for g in range(counts.shape[1])]
    out = np.empty(len(counts))
    for b in tqdm(range(len(counts)), desc=f"bootstrap {pair.x} ~ {pair.y}", disable=not progress, leave=False):
        chosen = [rows_of[g] for g in np.repeat(np.arange(counts.shape[1]), counts[b])]
        rows = np.concatenate(chosen)
        copy = np.repeat(np.arange(len(chosen)), [len(c) for c in chosen])
        out[b] = _two_way_r(pair.x[rows], pair.y[rows], copy, pair.period[rows])
    return out
