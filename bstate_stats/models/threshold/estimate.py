"""P(score >= threshold) as a function of habits: linear probability model with team effects and conditional logit."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special
from statsmodels.discrete.conditional_models import ConditionalLogit
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from bstate_stats.errors import ColumnError, EstimationWarning, SpecificationError, renamed_keywords
from bstate_stats.models.fixed_effects.estimate import fixed_effects
from bstate_stats.models.fixed_effects.spec import Cluster, Effects
from bstate_stats.models.threshold.results import ConditionalLogitFit, ThresholdResults
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.panel import Panel


def _indicator_panel(panel: Panel, outcome: str, threshold: float) -> tuple[Panel, str]:
    name = f"{outcome}_at_or_above_{threshold:g}"
    values = panel.data[outcome]
    indicator = (values >= threshold).astype(float).where(values.notna())
    return panel.with_columns({name: indicator}, role="outcome", scale="proportion_0_1"), name


def _team_intercepts(y: np.ndarray, index: np.ndarray, teams: np.ndarray) -> np.ndarray:
    """Per team, the intercept a with sum_t [y - logistic(a + xb)] = 0 (exists when y varies in the team)."""
    alpha = np.empty(len(y))
    for team in np.unique(teams):
        rows = teams == team
        target, xb = y[rows].sum(), index[rows]
        alpha[rows] = optimize.brentq(lambda a: special.expit(a + xb).sum() - target, -50 - xb.max(), 50 - xb.min())
    return alpha


def _informative_rows(frame: pd.DataFrame, outcome: str, period_effects: bool, ledger: ExclusionLedger) -> pd.DataFrame:
    """Drop rows that carry no information for the conditional likelihood, counting each in the ledger.

    Teams whose outcome never changes side, and (with period effects) periods
    in which every remaining team is on the same side (perfectly predicted by
    the period effect), are removed in turn until neither is left.
    """
    while True:
        team_share = frame[outcome].groupby(level="team").transform("mean")
        constant_team = ((team_share == 0) | (team_share == 1)).to_numpy()
        ledger.exclude(f"team's {outcome} never changes side of the threshold (not informative for the conditional logit)", frame.index[constant_team])
        frame = frame[~constant_team]
        if not period_effects or frame.empty:
            return frame
        period_share = frame[outcome].groupby(level="t").transform("mean")
        constant_period = ((period_share == 0) | (period_share == 1)).to_numpy()
        ledger.exclude("period in which every informative team is on the same side (perfectly predicted by the period effect)", frame.index[constant_period])
        frame = frame[~constant_period]
        if not constant_period.any():
            return frame


def _conditional_logit(frame: pd.DataFrame, outcome: str, drivers: list[str], driver: str, change: float, period_effects: bool, ledger: ExclusionLedger) -> ConditionalLogitFit:
    frame = _informative_rows(frame, outcome, period_effects, ledger)
    if frame.empty:
        raise SpecificationError(f"no team's {outcome} crosses the threshold: the conditional logit has no informative team")
    exog = frame[drivers].astype(float)
    if period_effects:
        dummies = pd.get_dummies(frame.index.get_level_values("t"), prefix="period", drop_first=True, dtype=float)
        dummies.index = frame.index
        exog = exog.join(dummies)
    teams = frame.index.get_level_values("team").to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = ConditionalLogit(frame[outcome].to_numpy(), exog.to_numpy(), groups=pd.factorize(teams)[0]).fit(method="bfgs", maxiter=2000, disp=False)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise SpecificationError(f"conditional logit failed: {exc} (separation or collinearity among {list(exog.columns)})") from exc
    # ConditionalResults keeps no mle_retvals: statsmodels' ConvergenceWarning is the verdict
    failures = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    converged = not failures
    if not converged:
        messages = "; ".join(str(w.message).splitlines()[0] for w in failures)
        warnings.warn(f"conditional logit did not converge ({messages}); its estimates are not reliable", EstimationWarning, stacklevel=3)
    params = pd.Series(fit.params, index=exog.columns)
    cov = pd.DataFrame(fit.cov_params(), index=exog.columns, columns=exog.columns)
    X, y = exog.to_numpy(), frame[outcome].to_numpy()
    column = list(exog.columns).index(driver)

    def ame(beta: np.ndarray) -> float:
        index = X @ beta
        alpha = _team_intercepts(y, index, teams)
        return float(np.mean(special.expit(alpha + index + change * beta[column]) - special.expit(alpha + index)))

    fitted = special.expit(_team_intercepts(y, X @ params.to_numpy(), teams) + X @ params.to_numpy())
    if np.all((fitted < 1e-6) | (fitted > 1 - 1e-6)):
        raise SpecificationError(f"complete separation: within every informative team {driver} sorts rows perfectly into below/above the threshold, so the logit slope is unbounded")
    estimate = ame(params.to_numpy())
    step = 1e-5 * np.maximum(np.abs(params.to_numpy()), 1e-3)
    gradient = np.array([(ame(params.to_numpy() + np.eye(len(params))[k] * step[k]) - ame(params.to_numpy() - np.eye(len(params))[k] * step[k])) / (2 * step[k]) for k in range(len(params))])
    std_error = float(np.sqrt(gradient @ cov.to_numpy() @ gradient))
    return ConditionalLogitFit(params, cov, len(frame), len(np.unique(teams)), ledger, estimate, std_error, frame.index, converged)


@renamed_keywords(level="confidence_level")
def threshold_model(
    panel: Panel,
    outcome: str,
    drivers: Sequence[str],
    *,
    threshold: float = 8.0,
    change: float = 10.0,
    effects: Effects = "twoway",
    cluster: Cluster = "team",
    lags: Mapping[str, int] | None = None,
    confidence_level: float = 0.95,
    logit: bool = True,
    bootstrap_reps: int = 999,
    seed: int = 0,
) -> ThresholdResults:
    r"""How the chance of ``outcome >= threshold`` moves with the first driver.

    Two models of :math:`D_{it} = 1[y_{it} \ge c]`:

    * linear probability, :math:`D_{it} = \alpha_i + \delta_t + x_{it}'\beta + e_{it}`
      (fixed effects, clustered errors): the change is :math:`\beta \cdot \Delta`;
    * conditional logit, :math:`P(D_{it}=1) = \Lambda(\alpha_i + \delta_t + x_{it}'\beta)`,
      estimated without the :math:`\alpha_i` (statsmodels ``ConditionalLogit``);
      the average marginal effect of :math:`+\Delta` solves each informative
      team's :math:`\alpha_i` given :math:`\hat\beta` and averages
      :math:`\Lambda(\alpha_i + x'\hat\beta + \Delta\hat\beta_1) - \Lambda(\alpha_i + x'\hat\beta)`
      over informative teams' rows; its standard error is by the delta method.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        Panel columns; the first driver is the one whose change is reported.
    threshold
        The outcome's threshold (at or above counts).
    change
        Change of the first driver, in its units.
    effects, cluster, lags, confidence_level, bootstrap_reps, seed
        As for :func:`~bstate_stats.fixed_effects`.
    logit
        Also fit the conditional logit.

    Returns
    -------
    ThresholdResults
        Both models' change in probability, with intervals and counts.

    Notes
    -----
    The two answers differ by design when P(>= threshold) is far from linear
    in the driver: the LPM estimates the fixed-effects *linear projection* of
    the probability on the driver (a variance-weighted average slope, which
    flattens where probabilities saturate near 0 or 1), while the logit's
    average marginal effect is the mean finite-difference change over the
    rows that carry information. Read them together.

    Teams whose outcome never changes side of the threshold carry no
    information for the conditional logit; they are counted in its ledger and
    its average marginal effect is over informative teams only (for them, a
    habit change that moves no team across the line changes nothing).
    The same causal caveats as :func:`fixed_effects` apply.
    """
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    if outcome not in panel.data:
        raise ColumnError(f"{outcome!r} is not in the panel")
    with_indicator, indicator = _indicator_panel(panel, outcome, threshold)
    observed = with_indicator.data[indicator].dropna()
    if observed.nunique() < 2:
        side = "at or above" if observed.iloc[0] == 1 else "below"
        raise SpecificationError(f"{outcome} is {side} {threshold:g} in every row: the threshold is never crossed, nothing to estimate")
    lpm = fixed_effects(with_indicator, indicator, drivers, effects=effects, cluster=cluster, lags=lags, confidence_level=confidence_level, bootstrap_reps=bootstrap_reps, seed=seed)
    driver = next((t for t in lpm.params.index if t != "Intercept"), None)
    first = f"{drivers[0]}_lag{dict(lags or {})[drivers[0]]}" if dict(lags or {}).get(drivers[0]) else drivers[0]
    if first in lpm.not_identified or driver != first:
        reason = lpm.not_identified.get(first, "not estimated")
        raise SpecificationError(f"the threshold model answers for its first driver, {first}, which is not identified: {reason}")
    notes = [f"LPM: {lpm.se_convention}"]
    logit_fit = None
    if logit:
        frame = with_indicator.model_frame(indicator, drivers, lags=lags)
        ledger = ExclusionLedger(frame.ledger.n_input, list(frame.ledger.entries))
        try:
            logit_fit = _conditional_logit(frame.data, indicator, list(frame.drivers), driver, change, effects in ("twoway", "period"), ledger)
        except SpecificationError as exc:
            warnings.warn(f"conditional logit skipped: {exc}", EstimationWarning, stacklevel=2)
            notes.append(f"Conditional logit skipped: {exc}")
        else:
            dropped = ledger.n_excluded - frame.ledger.n_excluded
            notes.append(f"Conditional logit: {logit_fit.n_teams} informative teams, {dropped} rows of teams that never cross {threshold:g} excluded (counted in its ledger)")
            if not logit_fit.converged:
                notes.append(logit_fit.why_not_converged(outcome, threshold))
    return ThresholdResults(outcome, driver, threshold, change, confidence_level, lpm, logit_fit, notes)
