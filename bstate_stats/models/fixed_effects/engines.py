"""The one place that touches the engines: pyfixest (within, pooled, first differences) and linearmodels (random effects)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf

from bstate_stats.errors import SpecificationError
from bstate_stats.models.fixed_effects.spec import Cluster, FixedEffectsSpec

COLLINEAR_TOLERANCE = 1e-8  # a driver whose demeaned spread is below this share of its raw spread is absorbed by the effects


@dataclass
class Fit:
    params: pd.Series
    cov: pd.DataFrame
    df: float
    n_clusters: int | None
    fitted: pd.Series
    demeaned: tuple[np.ndarray, np.ndarray] | None = None
    extra: dict = field(default_factory=dict)


def level_codes(frame: pd.DataFrame, level: str) -> np.ndarray:
    """Dense integer codes of an index level (from the index's own codes: no hashing of labels)."""
    return pd.factorize(frame.index.codes[frame.index.names.index(level)])[0]


def index_codes(frame: pd.DataFrame, level: str) -> np.ndarray:
    """The index's own integer codes of a level: equal values, equal codes, but not necessarily 0..n-1."""
    return np.asarray(frame.index.codes[frame.index.names.index(level)])


def n_levels(frame: pd.DataFrame, level: str) -> int:
    """How many distinct values an index level takes in ``frame`` (counted on the index's codes)."""
    return int(np.count_nonzero(np.bincount(index_codes(frame, level))))


def cluster_ids(frame: pd.DataFrame, cluster: Cluster) -> pd.DataFrame:
    ids = pd.DataFrame(index=frame.index)
    if cluster in ("team", "twoway"):
        ids["team_id"] = level_codes(frame, "team")
    if cluster == "twoway":
        ids["period_id"] = level_codes(frame, "t")
    if cluster == "region":
        ids["region_id"] = pd.factorize(frame["region"])[0]
    return ids


def pyfixest_fit(frame: pd.DataFrame, outcome: str, drivers: Sequence[str], spec: FixedEffectsSpec, *, team_fe: bool, period_fe: bool, intercept: bool) -> Fit:
    """Estimate with pyfixest on safe column names; map results back to the user's names."""
    names = {c: f"x{k}" for k, c in enumerate(drivers)}
    team = index_codes(frame, "team")
    # clustering by team uses the team column itself (pyfixest factorizes it once for the effects and the clusters)
    clusters = pd.DataFrame({"team": team}) if spec.cluster == "team" else cluster_ids(frame, spec.cluster)
    data = pd.DataFrame(
        {
            "y": frame[outcome].to_numpy(),
            **{names[c]: frame[c].to_numpy() for c in drivers},
            "team": team,
            "t": frame.index.get_level_values("t").to_numpy(),
            **{column: clusters[column].to_numpy() for column in clusters if column != "team"},
        }
    )
    fixed = [f for f, on in (("team", team_fe), ("t", period_fe)) if on]
    rhs = " + ".join(names.values()) + ("" if intercept or fixed else " - 1")
    formula = f"y ~ {rhs}" + (f" | {' + '.join(fixed)}" if fixed else "")
    vcov: str | dict = "iid" if spec.cluster is None else {"CRV1": " + ".join(clusters.columns)}
    ssc = pf.ssc(k_adj=True, k_fixef=spec.small_sample, G_adj=True)
    # pyfixest's collinearity warning is not lost: its dropped terms (_collin_vars) become `not_identified`,
    # reported by name in the results; its other warnings are pandas deprecations inside pyfixest
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # `data` is built here for pyfixest alone, so it need not copy or keep it
        if spec.family == "poisson":
            offset = None
            if spec.exposure:
                data["log_exposure"], offset = np.log(frame[spec.exposure].to_numpy(dtype=float)), "log_exposure"
            fit = pf.fepois(formula, data, vcov=vcov, ssc=ssc, offset=offset, fixef_rm="none", copy_data=False, store_data=False)
        else:
            fit = pf.feols(formula, data, vcov=vcov, ssc=ssc, fixef_rm="none", copy_data=False, store_data=False)
    back = {v: k for k, v in names.items()} | {"Intercept": "Intercept"}
    terms = [back.get(name, name) for name in fit._coefnames]
    params = pd.Series(np.asarray(fit._beta_hat, dtype=float), index=terms, name="Estimate")  # pyfixest's own estimates (its coef() builds a formatted copy)
    cov = pd.DataFrame(fit._vcov, index=params.index, columns=params.index)
    n_clusters = int(min(np.count_nonzero(np.bincount(clusters[c].to_numpy())) for c in clusters)) if spec.cluster else None
    df = (n_clusters - 1) if n_clusters else float(fit._df_t)
    slopes = params.drop("Intercept", errors="ignore")
    fitted = pd.Series(sum(float(b) * frame[c].to_numpy(dtype=float) for c, b in slopes.items()), index=frame.index, copy=False)
    collinear = [back.get(v, v) for v in getattr(fit, "_collin_vars", [])]
    demeaned = (np.asarray(fit._X), np.asarray(fit._Y).ravel())
    return Fit(params, cov, df, n_clusters, fitted, demeaned, {"collinear": collinear, "r2_within_engine": getattr(fit, "_r2_within", np.nan)})


def random_effects_fit(frame: pd.DataFrame, outcome: str, drivers: Sequence[str], spec: FixedEffectsSpec) -> Fit:
    """Swamy-Arora random effects through linearmodels (period dummies added for two-way effects)."""
    from linearmodels import RandomEffects

    exog = frame[list(drivers)].assign(Intercept=1.0)
    if spec.period_effects:
        dummies = pd.get_dummies(frame.index.get_level_values("t"), prefix="period", drop_first=True, dtype=float)
        dummies.index = frame.index
        exog = exog.join(dummies)
    cov_options: dict[str, Any]
    if spec.cluster == "team":
        cov_options = {"cov_type": "clustered", "cluster_entity": True, "debiased": True, "group_debias": True}
    elif spec.cluster == "twoway":
        cov_options = {"cov_type": "clustered", "cluster_entity": True, "cluster_time": True, "debiased": True, "group_debias": True}
    elif spec.cluster == "region":
        cov_options = {"cov_type": "clustered", "clusters": pd.DataFrame({"region": pd.factorize(frame["region"])[0]}, index=frame.index), "debiased": True, "group_debias": True}
    else:
        cov_options = {"cov_type": "unadjusted", "debiased": True}
    result = RandomEffects(frame[outcome], exog).fit(**cov_options)
    keep = [*drivers, "Intercept"]
    n_clusters = int(cluster_ids(frame, spec.cluster).nunique().min()) if spec.cluster else None
    df = (n_clusters - 1) if n_clusters else float(result.df_resid)
    fitted = pd.Series(frame[list(drivers)].to_numpy() @ result.params[list(drivers)].to_numpy(), index=frame.index)
    theta = result.theta
    return Fit(result.params[keep], result.cov.loc[keep, keep], df, n_clusters, fitted, None, {"theta": float(np.asarray(theta).mean()), "variance_decomposition": result.variance_decomposition.to_dict(), "linearmodels": result})


def demean_two_way(values: np.ndarray, team: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Columns of ``values`` with team and period means swept out (pyfixest's alternating projections; exact for unbalanced panels).

    Parameters
    ----------
    values
        Array of shape (rows, columns).
    team, period
        Integer codes of each row's team and period.

    Returns
    -------
    ndarray
        The residuals of each column on team and period dummies.
    """
    codes = np.column_stack([team, period]).astype(np.uint64)
    demeaned, converged = pf.estimation.demean(np.asarray(values, dtype=np.float64), codes, np.ones(len(values)), tol=1e-10)
    if not converged:  # pragma: no cover - alternating projections converge on any connected panel this size
        raise SpecificationError("two-way demeaning (team and period means) did not converge: is the panel connected?")
    return demeaned


def within_slopes(frame: pd.DataFrame, outcome: str, drivers: Sequence[str]) -> pd.Series:
    """Slopes of ``outcome`` on ``drivers`` with team and period effects, without standard errors (for bootstrap replicates).

    Frisch-Waugh-Lovell: pyfixest's demeaning of every column by team and
    period, then least squares; the same slopes as :func:`pyfixest_fit` with
    both effects, at a fraction of the cost on small frames.

    Parameters
    ----------
    frame
        Indexed by (team, t).
    outcome, drivers
        Columns of ``frame``.

    Returns
    -------
    pandas.Series
        One slope per driver.

    Raises
    ------
    numpy.linalg.LinAlgError
        A driver has no variation left once team and period means are removed, or drivers are collinear.
    """
    values = np.column_stack([frame[c].to_numpy(dtype=float) for c in (outcome, *drivers)])
    demeaned = demean_two_way(values, level_codes(frame, "team"), level_codes(frame, "t"))
    y, X = demeaned[:, 0], demeaned[:, 1:]
    spread = np.sqrt(((values[:, 1:] - values[:, 1:].mean(axis=0)) ** 2).sum(axis=0))
    if np.any(np.sqrt((X**2).sum(axis=0)) <= COLLINEAR_TOLERANCE * np.maximum(spread, np.finfo(float).tiny)) or np.linalg.matrix_rank(X) < X.shape[1]:
        raise np.linalg.LinAlgError(f"a driver of {outcome} is not identified once team and period means are removed")
    return pd.Series(np.linalg.lstsq(X, y, rcond=None)[0], index=list(drivers))
