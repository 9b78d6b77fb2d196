"""Relative importance of drivers within teams: Shapley (LMG) shares and Johnson's relative weights, with team-bootstrap intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bstate_stats.errors import SpecificationError
from bstate_stats.inference.resampling import team_bootstrap_counts
from bstate_stats.models.fixed_effects.engines import demean_two_way
from bstate_stats.models.importance.results import RelativeImportanceResults
from bstate_stats.models.importance.shares import relative_weights, shapley_shares, subset_r2
from bstate_stats.panel.panel import Panel

MAX_DRIVERS = 12  # 2^12 = 4096 subset regressions per replicate


def relative_importance(
    panel: Panel,
    outcome: str,
    drivers: Sequence[str],
    *,
    effects: Literal["twoway", "team"] = "twoway",
    lags: Mapping[str, int] | None = None,
    confidence_level: float = 0.95,
    bootstrap_reps: int = 999,
    top_k: int = 1,
    seed: int = 0,
    progress: bool = False,
) -> RelativeImportanceResults:
    r"""How much of the outcome's within-team variation each driver accounts for.

    With outcome and drivers demeaned by team (and period), :math:`R^2(S)` is the share of
    the outcome's variation a subset :math:`S` of drivers explains. A driver's **Shapley
    (LMG) share** is :math:`R^2(S \cup j) - R^2(S)` averaged over every order of entry;
    **Johnson's relative weights** split :math:`R^2` through orthogonal counterparts of
    the drivers. Both sum to the within :math:`R^2`.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        The outcome and two or more drivers (at most 12: every subset is fitted).
    effects
        ``"twoway"`` (team and period means removed) or ``"team"``.
    lags
        ``{driver: k}``: the driver k periods earlier.
    confidence_level
        Level of the intervals (team-bootstrap percentiles, widened for few teams).
    bootstrap_reps
        Team-cluster bootstrap replicates (whole teams resampled; at least 2).
    top_k
        ``prob_top_k`` is the share of replicates in which a driver ranks among the ``top_k`` largest.
    seed
        Seed of the bootstrap.
    progress
        Show a progress bar (two-way effects re-demean every replicate).

    Returns
    -------
    RelativeImportanceResults
        Per driver: LMG share and interval, part of R², relative weight, rank, P(top k).

    Notes
    -----
    A decomposition of association within teams, not of causal effects.
    """
    frame = panel.model_frame(outcome, drivers, lags=lags)
    names = list(frame.drivers)
    _check(names, effects, confidence_level, bootstrap_reps, top_k)
    values = frame.data[[outcome, *names]].to_numpy(dtype=float)
    _check_rows(values, frame.data.index.get_level_values("team"), names)
    team = pd.factorize(frame.data.index.get_level_values("team"))[0]
    period = pd.factorize(frame.data.index.get_level_values("t"))[0]
    n_teams = int(team.max()) + 1
    counts = team_bootstrap_counts(n_teams, bootstrap_reps, seed)
    cross, replicates = _cross_products(values, team, period, counts, effects, progress)
    lmg, rw = _decompose(cross, names)
    lmg_draws, rw_draws = _decompose(replicates, names)
    return RelativeImportanceResults(
        outcome=outcome, drivers=tuple(names), effects=effects, lmg=lmg, relative_weights=rw, lmg_draws=lmg_draws, relative_weight_draws=rw_draws,
        confidence_level=confidence_level, top_k=top_k, n_rows=len(values), n_teams=n_teams, ledger=frame.ledger, seed=seed,
    )


def _cross_products(values: np.ndarray, team: np.ndarray, period: np.ndarray, counts: np.ndarray, effects: str, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cross-products of the demeaned data, and of every bootstrap sample."""
    if effects == "team":
        per_team = _team_cross_products(values, team, counts.shape[1])
        return per_team.sum(axis=0), np.einsum("bg,gij->bij", counts, per_team)
    demeaned = demean_two_way(values, team, period)
    return demeaned.T @ demeaned, _two_way_replicates(values, team, period, counts, progress)


def _check(names: list[str], effects: str, confidence_level: float, bootstrap_reps: int, top_k: int) -> None:
    if not 2 <= len(names) <= MAX_DRIVERS:
        raise SpecificationError(f"relative importance needs 2 to {MAX_DRIVERS} drivers (every subset is fitted), got {len(names)}: {names}")
    if effects not in ("twoway", "team"):
        raise SpecificationError(f"effects must be 'twoway' or 'team', got {effects!r}")
    if not 0 < confidence_level < 1:
        raise SpecificationError(f"confidence_level must be between 0 and 1, got {confidence_level}")
    if bootstrap_reps < 2:
        raise SpecificationError(f"bootstrap_reps must be at least 2, got {bootstrap_reps}")
    if not 1 <= top_k <= len(names):
        raise SpecificationError(f"top_k must be between 1 and the number of drivers ({len(names)}), got {top_k}")


def _check_rows(values: np.ndarray, teams: pd.Index, names: list[str]) -> None:
    """Refuse data that cannot be decomposed: fewer than two teams, or a driver that never moves within a team."""
    if teams.nunique() < 2:
        raise SpecificationError(f"relative importance needs rows from at least two teams with every driver present; found {teams.nunique()} ({len(values)} rows)")
    team = pd.factorize(teams)[0]
    spread = pd.DataFrame(values[:, 1:], columns=names).groupby(team).transform(lambda column: column - column.mean()).abs().max()
    constant = [name for name in names if not spread[name] > 1e-12]
    if constant:
        raise SpecificationError(f"{', '.join(constant)} never change within a team: with team effects they explain nothing and cannot be ranked")


def _team_cross_products(values: np.ndarray, team: np.ndarray, n_teams: int) -> np.ndarray:
    """Per team, the cross-products of its team-demeaned rows (n_teams x q x q): a resampled copy of a team contributes the same."""
    sizes = np.bincount(team, minlength=n_teams)
    means = np.stack([np.bincount(team, values[:, k], n_teams) for k in range(values.shape[1])], axis=1) / sizes[:, None]
    demeaned = values - means[team]
    out = np.zeros((n_teams, values.shape[1], values.shape[1]))
    np.add.at(out, team, demeaned[:, :, None] * demeaned[:, None, :])
    return out


def _two_way_replicates(values: np.ndarray, team: np.ndarray, period: np.ndarray, counts: np.ndarray, progress: bool) -> np.ndarray:
    """Cross-products of each bootstrap sample after team and period means are removed from it anew."""
    rows_of = [np.flatnonzero(team == g) for g in range(counts.shape[1])]
    out = np.empty((len(counts), values.shape[1], values.shape[1]))
    for b in tqdm(range(len(counts)), desc="relative importance bootstrap", disable=not progress, leave=False):
        chosen = [rows_of[g] for g in np.repeat(np.arange(counts.shape[1]), counts[b])]
        rows = np.concatenate(chosen)
        copies = np.repeat(np.arange(len(chosen)), [len(c) for c in chosen])
        demeaned = demean_two_way(values[rows], copies, period[rows])
        out[b] = demeaned.T @ demeaned
    return out


def _decompose(cross: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """LMG shares and relative weights of one cross-product matrix or a stack of them; collinear drivers are a SpecificationError."""
    p = cross.shape[-1] - 1
    try:
        return shapley_shares(subset_r2(cross), p), relative_weights(cross)
    except np.linalg.LinAlgError as error:
        raise SpecificationError(f"the drivers {names} are collinear within teams (in the data or in a team-bootstrap sample): their shares are not identified ({error})") from error
