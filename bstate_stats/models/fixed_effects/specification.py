"""Specification tests: fixed versus random effects (Hausman, Mundlak) and poolability (F-test for team effects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bstate_stats.errors import SpecificationError
from bstate_stats.panel.panel import Panel


@dataclass(frozen=True)
class SpecificationTest:
    """A test statistic, its reference distribution and a plain-words reading."""

    name: str
    statistic: float
    df: tuple[float, ...]
    p_value: float
    null: str
    distribution: str

    def conclusion(self, alpha: float = 0.05) -> str:
        verdict = "reject" if self.p_value < alpha else "do not reject"
        return f"{self.name}: {verdict} H0 ({self.null}) at {alpha:.0%}; {self.distribution} = {self.statistic:.3f}, p = {self.p_value:.4f}"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"test": self.name, "statistic": self.statistic, "df": self.df, "p_value": self.p_value, "null": self.null}])


def _frame(panel: Panel, outcome: str, drivers: Sequence[str]) -> pd.DataFrame:
    """The model frame, refused when a driver cannot be compared within teams (constant, team-constant, collinear)."""
    frame = panel.model_frame(outcome, drivers).data
    names = [drivers] if isinstance(drivers, str) else list(drivers)
    team = frame.index.get_level_values("team")
    within = frame[names] - frame[names].groupby(team).transform("mean")
    flat = [d for d in names if np.allclose(within[d].to_numpy(), 0.0)]
    if flat:
        raise SpecificationError(f"{', '.join(flat)} does not vary within teams: the test compares within-team and between-team information and needs within-team variation in every driver")
    if np.linalg.matrix_rank(within.to_numpy()) < len(names):
        raise SpecificationError(f"the drivers {names} are collinear within teams: fixed and random effects cannot be compared")
    return frame


def hausman(panel: Panel, outcome: str, drivers: Sequence[str]) -> SpecificationTest:
    r"""Hausman test of fixed versus random effects (team effects), Stata's ``sigmamore`` form.

    :math:`H = (b_{FE} - b_{RE})' [V_{FE} - V_{RE}]^{-1} (b_{FE} - b_{RE}) \sim \chi^2_k`
    with conventional covariances from linearmodels' PanelOLS and
    RandomEffects, both rescaled to the random-effects idiosyncratic variance so
    that the difference is positive semi-definite (the classic form with two
    different variance estimates can turn negative in finite samples). Under
    H0 the team effects are uncorrelated with the drivers and RE is efficient;
    a rejection favours fixed effects. Assumes homoskedastic, serially
    uncorrelated errors; prefer :func:`mundlak` with clustered data.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        Panel columns; every driver must vary within teams.

    Returns
    -------
    SpecificationTest
        The statistic, its degrees of freedom, p-value and a plain-words ``conclusion()``.
    """
    from linearmodels import PanelOLS, RandomEffects

    frame = _frame(panel, outcome, drivers)
    names = [drivers] if isinstance(drivers, str) else list(drivers)
    exog = frame[names]
    fe = PanelOLS(frame[outcome], exog, entity_effects=True).fit(cov_type="unadjusted")
    re = RandomEffects(frame[outcome], exog.assign(const=1.0)).fit(cov_type="unadjusted")
    sigma2_e = float(re.variance_decomposition["Residual"])
    scaled_fe = fe.cov.loc[names, names] * sigma2_e / (fe.resid_ss / fe.df_resid)
    scaled_re = re.cov.loc[names, names] * sigma2_e / (re.resid_ss / re.df_resid)
    diff = (fe.params[names] - re.params[names]).to_numpy()
    v = (scaled_fe - scaled_re).to_numpy()
    statistic = float(diff @ np.linalg.pinv(v) @ diff)
    k = len(names)
    return SpecificationTest("Hausman (FE vs RE)", statistic, (k,), float(stats.chi2.sf(statistic, k)), "random effects consistent", f"chi2({k})")


def mundlak(panel: Panel, outcome: str, drivers: Sequence[str]) -> SpecificationTest:
    """Cluster-robust Hausman test in Mundlak's form.

    Pooled regression of the outcome on the drivers and their team means,
    clustered by team; a Wald test that the team means' coefficients are zero.
    Valid with heteroskedastic and serially correlated errors.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        Panel columns; every driver must vary within teams.

    Returns
    -------
    SpecificationTest
        The Wald statistic, its degrees of freedom, p-value and a plain-words ``conclusion()``.
    """
    import statsmodels.api as sm

    frame = _frame(panel, outcome, drivers)
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    team = frame.index.get_level_values("team")
    means = frame[list(drivers)].groupby(team).transform("mean").add_suffix("_team_mean")
    exog = sm.add_constant(pd.concat([frame[list(drivers)], means], axis=1))
    fit = sm.OLS(frame[outcome], exog).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(team)[0]})
    restriction = np.zeros((len(drivers), exog.shape[1]))
    for k, name in enumerate(means.columns):
        restriction[k, list(exog.columns).index(name)] = 1.0
    wald = fit.wald_test(restriction, use_f=False, scalar=True)
    k = len(drivers)
    return SpecificationTest("Mundlak (robust FE vs RE)", float(wald.statistic), (k,), float(wald.pvalue), "random effects consistent", f"chi2({k})")


def team_effects_f_test(panel: Panel, outcome: str, drivers: Sequence[str], *, period_effects: bool = True) -> SpecificationTest:
    r"""F-test that all team effects are zero (poolability), with period effects kept in both models.

    :math:`F = \frac{(SSR_r - SSR_u) / (n - 1)}{SSR_u / (N - n - T_e - k)}` with
    n teams, :math:`T_e` period effects (T - 1 when included) and k drivers.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        Panel columns; every driver must vary within teams.
    period_effects
        Keep period effects in both models.

    Returns
    -------
    SpecificationTest
        The F statistic, its degrees of freedom, p-value and a plain-words ``conclusion()``.
    """
    from linearmodels import PanelOLS

    frame = _frame(panel, outcome, drivers)
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    exog = frame[list(drivers)]
    unrestricted = PanelOLS(frame[outcome], exog if period_effects else exog.assign(const=1.0), entity_effects=True, time_effects=period_effects).fit()
    restricted = PanelOLS(frame[outcome], exog if period_effects else exog.assign(const=1.0), time_effects=period_effects).fit()
    n_teams = frame.index.get_level_values("team").nunique()
    n_periods = frame.index.get_level_values("t").nunique()
    df_num = n_teams - 1
    df_den = len(frame) - n_teams - (n_periods - 1 if period_effects else 0) - len(drivers)
    statistic = ((restricted.resid_ss - unrestricted.resid_ss) / df_num) / (unrestricted.resid_ss / df_den)
    return SpecificationTest("F-test of team effects", float(statistic), (df_num, df_den), float(stats.f.sf(statistic, df_num, df_den)), "no team effects (pooled model adequate)", f"F({df_num}, {df_den})")
