"""Fixed-effects panel regressions of an outcome on habit (and other) drivers.

Thin layer over the field's engines: pyfixest for within (and pooled)
estimation, linearmodels for random effects; first differences are built from
the panel index and estimated with pyfixest. The layer adds what researchers
need around them: the exclusion ledger, non-identified terms reported by name,
lags from the index, few-cluster wild bootstrap, and one results object.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bstate_stats.errors import EstimationWarning, SpecificationError, renamed_keywords
from bstate_stats.inference import bootstrap
from bstate_stats.models.fixed_effects.engines import Fit, cluster_ids, index_codes, n_levels, pyfixest_fit, random_effects_fit
from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.models.fixed_effects.spec import FEW_CLUSTERS, Cluster, Effects, Estimator, Family, FixedEffectsSpec, SmallSample
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.panel import Panel


def _exclude_singletons(frame: pd.DataFrame, ledger: ExclusionLedger, spec: FixedEffectsSpec) -> pd.DataFrame:
    """Teams seen once carry no within-team information: excluded and counted, never dropped silently."""
    if not (spec.team_effects or spec.estimator == "first_difference"):
        return frame
    codes = index_codes(frame, "team")
    single = (np.bincount(codes) == 1)[codes]
    if single.any():
        ledger.exclude("team observed in a single period (no within-team variation)", frame.index[single])
        frame = frame[~single]
    return frame


def _varies_within(values: pd.Series, level: str) -> bool:
    """True when ``values`` differ inside at least one group of the index ``level``."""
    codes = np.asarray(values.index.codes[values.index.names.index(level)])
    numbers = values.to_numpy(dtype=float)
    first = np.empty(codes.max(initial=0) + 1)
    first[codes[::-1]] = numbers[::-1]  # each group's first value (the last write wins)
    return bool((numbers != first[codes]).any())


def _why_not_identified(frame: pd.DataFrame, driver: str, spec: FixedEffectsSpec) -> str:
    """The reason a driver cannot be estimated in this design."""
    values = frame[driver]
    if values.min() == values.max():
        return "constant in the estimation sample"
    if spec.team_effects and spec.estimator == "within" and not _varies_within(values, "team"):
        return "constant within every team (absorbed by team effects)"
    if spec.period_effects and not _varies_within(values, "t"):
        return "constant within every period (absorbed by period effects)"
    return "perfectly collinear with other drivers or the fixed effects"


def _not_identified(frame: pd.DataFrame, drivers: Sequence[str], spec: FixedEffectsSpec) -> dict[str, str]:
    """Drivers the design cannot identify, checked before fitting (engines without collinearity detection)."""
    reasons = {d: _why_not_identified(frame, d, spec) for d in drivers}
    return {d: r for d, r in reasons.items() if not r.startswith("perfectly collinear")}


def _first_differences(frame: pd.DataFrame, columns: Sequence[str], step: int, ledger: ExclusionLedger) -> pd.DataFrame:
    """Differences against the same team's previous grid period; rows without one are counted in the ledger."""
    flat = frame.reset_index()
    earlier = flat.assign(t=flat["t"] + step)[["team", "t", *columns]]
    joined = flat[["team", "t", *[c for c in flat.columns if c not in ("team", "t", *columns)], *columns]].merge(earlier, on=["team", "t"], how="left", suffixes=("", "__prev"))
    has_prev = joined[[f"{c}__prev" for c in columns]].notna().all(axis=1).to_numpy()
    lost = frame.index[~has_prev]
    ledger.exclude("no previous period to difference against (team's first period or a gap)", lost)
    diffs = joined.loc[has_prev, ["team", "t", *[c for c in joined.columns if c in frame.columns and c not in columns]]].copy()
    for c in columns:
        diffs[c] = joined.loc[has_prev, c].to_numpy() - joined.loc[has_prev, f"{c}__prev"].to_numpy()
    return diffs.set_index(["team", "t"])


def _r_squared(frame: pd.DataFrame, outcome: str, fitted: pd.Series) -> dict[str, float]:
    """Within, between and overall R-squared as Stata's xtreg defines them (squared correlations)."""
    codes = index_codes(frame, "team")
    counts = np.bincount(codes)
    y, f = frame[outcome].to_numpy(dtype=float), fitted.to_numpy(dtype=float)
    y_mean, f_mean = np.bincount(codes, y) / np.maximum(counts, 1), np.bincount(codes, f) / np.maximum(counts, 1)
    seen = counts > 0
    return {"within": _squared_correlation(y - y_mean[codes], f - f_mean[codes]), "between": _squared_correlation(y_mean[seen], f_mean[seen]), "overall": _squared_correlation(y, f)}


def _squared_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The squared Pearson correlation; NaN when either side does not vary."""
    a, b = a - a.mean(), b - b.mean()
    saa, sbb = float(a @ a), float(b @ b)
    return float((a @ b) ** 2 / (saa * sbb)) if saa > 0 and sbb > 0 else float("nan")


@renamed_keywords(level="confidence_level")
def fixed_effects(
    panel: Panel,
    outcome: str,
    drivers: Sequence[str],
    *,
    effects: Effects = "twoway",
    estimator: Estimator = "within",
    cluster: Cluster = "team",
    lags: Mapping[str, int] | None = None,
    confidence_level: float = 0.95,
    small_sample: SmallSample = "nonnested",
    bootstrap_reps: int = 999,
    bootstrap_weights: bootstrap.Weights = "webb",
    seed: int = 0,
    family: Family = "linear",
    exposure: str | None = None,
) -> FixedEffectsResults:
    r"""Panel regression of ``outcome`` on ``drivers`` with team and/or period effects.

    .. math:: y_{it} = \alpha_i + \delta_t + x_{it}'\beta + \varepsilon_{it}

    Parameters
    ----------
    panel
        A validated :class:`~bstate_stats.panel.panel.Panel`.
    outcome, drivers
        Panel columns, e.g. ``"csat"`` and ``["habit_index", "relationship_index"]``.
    effects
        ``"twoway"`` (team and period), ``"team"``, ``"period"`` or ``"none"``.
    estimator
        ``"within"`` (pyfixest), ``"first_difference"`` (differences from the
        panel index; ``twoway`` adds period effects, ``team`` an intercept,
        ``none`` neither, on the differenced data), ``"random"`` (linearmodels,
        Swamy-Arora; ``twoway`` adds period dummies) or ``"pooled"``.
    cluster
        ``"team"``, ``"region"``, ``"twoway"`` (team and period) or None
        (conventional homoskedastic errors, as textbooks print them). With fewer than 30 clusters a wild
        cluster bootstrap p-value and interval are added (see Notes).
    lags
        ``{driver: k}``: use the driver ``k`` periods earlier (habits at t-1
        against satisfaction at t), built from the panel index.
    confidence_level
        Confidence level of the intervals (default 0.95).
    small_sample
        ``"nonnested"`` (default; as reghdfe/fixest: fixed effects nested in
        the clusters are not counted in K) or ``"full"`` (every fixed effect
        counted, as statsmodels OLS with dummies and linearmodels with
        ``debiased=True, group_debias=True``).
    bootstrap_reps, bootstrap_weights, seed
        Wild cluster bootstrap settings (Webb six-point weights by default);
        ``bootstrap_reps=0`` skips the bootstrap (the few-clusters warning stays).
    family
        ``"linear"`` (default; for shares, a linear probability model),
        ``"poisson"`` (counts or rates by Poisson pseudo-maximum likelihood,
        pyfixest's ``fepois``: coefficients are log rate ratios) or ``"log"``
        (least squares on the outcome's log, for positive skewed amounts such as
        cost to serve: coefficients are log ratios).
    exposure
        With ``family="poisson"``: what the count is out of (customers served,
        headcount, scheduled days), entered as ``log(exposure)`` with coefficient 1,
        so the model is of the rate.

    Returns
    -------
    FixedEffectsResults

    Notes
    -----
    Estimand: with team effects, a *within-team* association: how a team's
    outcome moves when its own drivers move, net of common period shocks. It
    is causal only if, within a team, changes in the drivers are unrelated to
    other changes that also move the outcome (no time-varying confounders, no
    feedback from past outcomes to drivers).

    Standard errors: CRV1 with the small-sample factor ``G/(G-1)*(N-1)/(N-K)``;
    intervals and p-values use t(G-1). With fewer than 30 clusters the
    wild cluster restricted bootstrap (wildboottest) gives the p-value, and the
    interval is found by inverting it. For ``family="poisson"`` it resamples the
    converged IRLS (working) regression pyfixest ends with: a linearisation of the
    Poisson score, as the score bootstrap uses.

    Rows missing the outcome or a driver, teams seen in a single period, and
    (first differences) rows without a previous period are excluded and counted
    in ``results.ledger``; so are, for ``"log"``, outcomes of 0 or less, and for
    ``"poisson"``, exposures of 0 or less and teams (periods) without a single
    event, which carry no information once team (period) effects are in. Drivers the design cannot identify are reported in
    ``results.not_identified`` and never printed as numbers.
    """
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    spec = FixedEffectsSpec(
        outcome, tuple(drivers), effects, estimator, cluster, tuple(sorted((lags or {}).items())), confidence_level, small_sample, bootstrap_reps, bootstrap_weights, seed, family, exposure
    )
    if cluster in ("region",) and not panel.has_regions:
        raise SpecificationError("cluster='region' needs a panel with regions")
    extra = (["region"] if cluster == "region" else []) + ([exposure] if exposure else [])
    model_frame = panel.model_frame(outcome, drivers, lags=dict(spec.lags), extra=extra)
    frame, ledger = model_frame.data, ExclusionLedger(model_frame.ledger.n_input, list(model_frame.ledger.entries))
    names = list(model_frame.drivers)
    frame = _family_rows(frame, ledger, spec)
    frame = _exclude_singletons(frame, ledger, spec)
    if estimator == "first_difference":
        frame = _first_differences(frame, [outcome, *names], panel.step, ledger)
    n_teams, n_periods = (n_levels(frame, "team"), n_levels(frame, "t")) if not frame.empty else (0, 0)
    if frame.empty or n_periods < 2 and spec.period_effects:
        raise SpecificationError(f"no usable rows left for {outcome} on {names}: see the ledger\n{ledger}")
    _require_outcome_variation(frame, outcome, spec)
    # pyfixest detects collinearity itself (reasons are added after the fit); linearmodels needs a pre-check,
    # and constant drivers are found before either engine sees them (a cheap check)
    constant = {d: "constant in the estimation sample" for d in names if np.ptp(frame[d].to_numpy()) == 0}
    not_identified = (_not_identified(frame, names, spec) if spec.estimator == "random" else {}) | constant
    usable = [d for d in names if d not in not_identified]
    if not usable:
        raise SpecificationError(f"no driver is identified: {_reasons(not_identified)}")
    if spec.cluster is not None:
        n_clusters = n_teams if spec.cluster == "team" else int(cluster_ids(frame, spec.cluster).nunique().min())
        if n_clusters < 2:
            raise SpecificationError(f"cluster={spec.cluster!r} has {n_clusters} cluster(s) in the estimation sample; at least 2 are needed")
    fit = _estimate_or_explain(frame, outcome, usable, spec)
    not_identified |= {c: _why_not_identified(frame, c, spec) for c in fit.extra.get("collinear", [])}
    if not [d for d in usable if d not in not_identified]:
        raise SpecificationError(f"no driver is identified: {_reasons(not_identified)}")
    fit.params = fit.params.drop(list(not_identified), errors="ignore")
    fit.cov = fit.cov.loc[fit.params.index, fit.params.index]
    boot = _few_cluster_bootstrap(fit, frame, usable, spec) if fit.n_clusters is not None and fit.n_clusters < FEW_CLUSTERS else {}
    for term, reason in not_identified.items():
        warnings.warn(f"{term} is not identified: {reason}; it is reported without an estimate", EstimationWarning, stacklevel=2)
    return FixedEffectsResults(
        spec=spec,
        params=fit.params,
        cov=fit.cov,
        df=fit.df,
        n_clusters=fit.n_clusters,
        n_rows=len(frame),
        n_teams=n_teams,
        n_periods=n_periods,
        rsquared={} if family == "poisson" else _r_squared(frame, outcome, fit.fitted),
        mean_level=_mean_level(frame, spec),
        ledger=ledger,
        not_identified=not_identified,
        bootstrap=boot,
        se_convention=spec.se_convention(fit.n_clusters),
        extra={k: v for k, v in fit.extra.items() if k != "collinear"},
    )


def _family_rows(frame: pd.DataFrame, ledger: ExclusionLedger, spec: FixedEffectsSpec) -> pd.DataFrame:
    """Rows a family cannot use, excluded and counted; the log family's outcome replaced by its log."""
    if spec.family == "linear":
        return frame
    y = frame[spec.outcome].to_numpy(dtype=float)
    if spec.family == "log":
        positive = y > 0
        if not positive.all():
            ledger.exclude(f"{spec.outcome} is 0 or less (its log is undefined)", frame.index[~positive])
            frame, y = frame[positive], y[positive]
        return frame.assign(**{spec.outcome: np.log(y)})
    if (y < 0).any():
        raise SpecificationError(f"family='poisson' needs counts of 0 or more; {spec.outcome} is negative in {int((y < 0).sum())} row(s)")
    if spec.exposure:
        empty = frame[spec.exposure].to_numpy(dtype=float) <= 0
        if empty.any():
            ledger.exclude(f"{spec.exposure} is 0 or less (no events possible)", frame.index[empty])
            frame = frame[~empty]
    return _exclude_eventless(frame, ledger, spec)


def _exclude_eventless(frame: pd.DataFrame, ledger: ExclusionLedger, spec: FixedEffectsSpec) -> pd.DataFrame:
    """Teams (periods) with no event at all: their effect is minus infinity and they carry no information on the slopes."""
    levels = [(level, what) for level, what, on in (("team", "team", spec.team_effects), ("t", "period", spec.period_effects)) if on]
    dropped: dict[str, list[pd.Index]] = {what: [] for _, what in levels}
    changed = True
    while changed and len(frame):  # removing a team can empty a period and the other way round
        changed = False
        for level, what in levels:
            codes = index_codes(frame, level)
            eventless = (np.bincount(codes, weights=frame[spec.outcome].to_numpy(dtype=float)) == 0)[codes]
            if eventless.any():
                dropped[what].append(frame.index[eventless])
                frame, changed = frame[~eventless], True
    for what, parts in dropped.items():  # one ledger line per reason, however many passes it took
        if parts:
            ledger.exclude(f"{what} with no {spec.outcome} in any of its rows (no information under Poisson {what} effects)", parts[0].append(parts[1:]))
    return frame


def _mean_level(frame: pd.DataFrame, spec: FixedEffectsSpec) -> float:
    """The outcome's level in the estimation sample: the mean, the events per unit of exposure, or (log) the mean amount."""
    y = frame[spec.outcome].to_numpy(dtype=float)
    if spec.family == "log":
        return float(np.exp(y).mean())
    if spec.exposure:
        return float(y.sum() / frame[spec.exposure].to_numpy(dtype=float).sum())
    return float(y.mean())


def _reasons(not_identified: dict[str, str]) -> str:
    return "; ".join(f"{term} is {reason}" for term, reason in not_identified.items())


def _require_outcome_variation(frame: pd.DataFrame, outcome: str, spec: FixedEffectsSpec) -> None:
    """Refuse an outcome the design leaves nothing to explain in (never reported as 0 +/- 0)."""
    if spec.team_effects and spec.estimator == "within" and not _varies_within(frame[outcome], "team"):
        raise SpecificationError(f"{outcome} does not vary within any team: with team effects there is nothing to explain")


def _estimate_or_explain(frame: pd.DataFrame, outcome: str, drivers: list[str], spec: FixedEffectsSpec) -> Fit:
    """Fit, turning an engine's refusal (singular design) into a reason named by driver."""
    try:
        return _estimate(frame, outcome, drivers, spec)
    except (ValueError, np.linalg.LinAlgError) as exc:
        reasons = {d: _why_not_identified(frame, d, spec) for d in drivers}
        detail = f" ({str(exc).strip().splitlines()[0]})" if str(exc).strip() else ""
        raise SpecificationError(f"the {spec.estimator} estimator cannot fit {outcome} on {drivers}: {_reasons(reasons)}{detail}") from exc


def _estimate(frame: pd.DataFrame, outcome: str, drivers: list[str], spec: FixedEffectsSpec) -> Fit:
    if spec.estimator == "random":
        return random_effects_fit(frame, outcome, drivers, spec)
    if spec.estimator == "first_difference":
        return pyfixest_fit(frame, outcome, drivers, spec, team_fe=False, period_fe=spec.period_effects, intercept=spec.effects == "team")
    return pyfixest_fit(frame, outcome, drivers, spec, team_fe=spec.team_effects, period_fe=spec.period_effects, intercept=True)


def _few_cluster_bootstrap(fit: Fit, frame: pd.DataFrame, drivers: list[str], spec: FixedEffectsSpec) -> dict[str, bootstrap.BootstrapInference]:
    """Wild cluster bootstrap for every driver when clusters are few (needs the partialled-out design)."""
    available = fit.demeaned is not None and spec.cluster != "twoway"
    warnings.warn(
        f"only {fit.n_clusters} clusters ({spec.cluster}): cluster-robust t-tests over-reject with fewer than {FEW_CLUSTERS}; {_few_cluster_remedy(spec, available)}",
        EstimationWarning,
        stacklevel=3,
    )
    if fit.demeaned is None or not available or spec.bootstrap_reps == 0:
        return {}
    X, y = fit.demeaned
    clusters = cluster_ids(frame, spec.cluster).iloc[:, 0].to_numpy()
    terms = [t for t in fit.params.index if t != "Intercept"]
    columns = {name: k for k, name in enumerate(fit.params.index)}
    out = {}
    for term in terms:
        out[term] = bootstrap.wild_cluster_bootstrap(
            X, y, clusters, columns[term], term=term, estimate=float(fit.params[term]), std_error=float(np.sqrt(fit.cov.loc[term, term])),
            confidence_level=spec.confidence_level, reps=spec.bootstrap_reps, weights=spec.bootstrap_weights, seed=spec.seed,
        )
    return out


def _few_cluster_remedy(spec: FixedEffectsSpec, available: bool) -> str:
    """What the results do about few clusters, in words: only what is actually computed is promised."""
    if not available:
        why = "two-way clustering" if spec.cluster == "twoway" else f"the {spec.estimator} estimator"
        return f"no wild cluster bootstrap is available for {why}: read the intervals with care (the within, first-difference and pooled estimators with one cluster level have one)"
    if spec.bootstrap_reps == 0:
        return "bootstrap_reps=0: no bootstrap, read the intervals with care"
    return "wild cluster bootstrap p-values and intervals are reported"
