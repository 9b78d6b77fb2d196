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
    dropped: tuple[str, ...] = ()

    def conclusion(self, alpha: float = 0.05) -> str:
        """The verdict at ``alpha`` in words, naming any term the test had to leave out.

        Parameters
        ----------
        alpha
            Significance level.

        Returns
        -------
        str
        """
        verdict = "reject" if self.p_value < alpha else "do not reject"
        text = f"{self.name}: {verdict} H0 ({self.null}) at {alpha:.0%}; {self.distribution} = {self.statistic:.3f}, p = {self.p_value:.4f}"
        if self.dropped:
            text += f" (team means left out, no between-team variation beyond the other terms: {', '.join(self.dropped)})"
        return text

    def to_frame(self) -> pd.DataFrame:
        """One row: ``test, statistic, df, p_value, null, dropped``."""
        return pd.DataFrame([{"test": self.name, "statistic": self.statistic, "df": self.df, "p_value": self.p_value, "null": self.null, "dropped": ", ".join(self.dropped)}])


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
    # the difference of covariances is singular where drivers carry no between-team information (period dummies in a
    # balanced panel); its rank, with a relative tolerance well above rounding error, gives the degrees of freedom
    singular = np.linalg.svd(v, compute_uv=False)
    k = int(np.sum(singular > 1e-10 * singular[0]))
    statistic = float(diff @ np.linalg.pinv(v, rcond=1e-10) @ diff)
    return SpecificationTest("Hausman (FE vs RE)", statistic, (k,), float(stats.chi2.sf(statistic, k)), "random effects consistent", f"chi2({k})")


def mundlak(panel: Panel, outcome: str, drivers: Sequence[str], *, period_effects: bool = True) -> SpecificationTest:
    """Cluster-robust Hausman test in Mundlak's form, with the fixed-effects model's period effects.

    Pooled regression of the outcome on the drivers, their team means and (by
    default) period dummies with the team means of the period dummies
    (Wooldridge 2019, for unbalanced panels), clustered by team; a Wald test
    that the drivers' team-mean coefficients are zero. Valid with
    heteroskedastic and serially correlated errors. A team mean that is a
    linear combination of the other regressors (a period dummy or a trend in a
    balanced panel: every team has the same mean) carries no between-team
    information; it is left out of the test and named in ``dropped``, and the
    degrees of freedom count only the identified means.

    Parameters
    ----------
    panel
        A validated panel.
    outcome, drivers
        Panel columns; every driver must vary within teams.
    period_effects
        Include period effects, as the default two-way fixed-effects model does.

    Returns
    -------
    SpecificationTest
        The Wald statistic, its degrees of freedom, p-value, the team means left out and a plain-words ``conclusion()``.
    """
    import statsmodels.api as sm

    frame = _frame(panel, outcome, drivers)
    names = [drivers] if isinstance(drivers, str) else list(drivers)
    team = frame.index.get_level_values("team")
    exog, tested, dropped = _mundlak_design(frame, names, team, period_effects)
    fit = sm.OLS(frame[outcome], exog).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(team)[0]})
    restriction = np.zeros((len(tested), exog.shape[1]))
    for k, name in enumerate(tested):
        restriction[k, list(exog.columns).index(name)] = 1.0
    wald = fit.wald_test(restriction, use_f=False, scalar=True)
    k = len(tested)
    return SpecificationTest("Mundlak (robust FE vs RE)", float(wald.statistic), (k,), float(wald.pvalue), "random effects consistent", f"chi2({k})", tuple(dropped))


def _mundlak_design(frame: pd.DataFrame, names: list[str], team: pd.Index, period_effects: bool) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Regressors of Mundlak's regression with every linearly dependent column left out; the team means tested and those dropped.

    Columns enter in the order constant, drivers, period dummies, team means of
    the period dummies, team means of the drivers, so a driver's team mean that
    the period structure already determines (a period dummy or a trend, also
    in an unbalanced panel) is the one left out, never a control.
    """
    columns = [pd.Series(1.0, index=frame.index, name="const"), *(frame[d] for d in names)]
    if period_effects:
        period = frame.index.get_level_values(-1)
        dummies = pd.get_dummies(period, prefix="period", drop_first=True, dtype=float).set_index(frame.index)
        columns += [dummies[c] for c in dummies.columns]
        columns += [dummies[c].groupby(team).transform("mean").rename(f"{c}_team_mean") for c in dummies.columns]
    means = frame[names].groupby(team).transform("mean").add_suffix("_team_mean")
    columns += [means[c] for c in means.columns]
    kept = _independent(columns)
    tested = [c for c in means.columns if c in kept]
    dropped = [c.removesuffix("_team_mean") for c in means.columns if c not in kept]
    if not tested:
        raise SpecificationError(f"the team means of {names} are the same for every team (or collinear with the period effects): there is no between-team variation to test")
    return pd.concat([c for c in columns if c.name in kept], axis=1), tested, dropped


def _independent(columns: list[pd.Series], tolerance: float = 1e-9) -> set[str]:
    """Names of the columns kept, in order, when each adds a direction to those kept before (Gram-Schmidt).

    A column is kept when what is left of it after projecting out the kept
    columns is more than ``tolerance`` of its own length.
    """
    basis: list[np.ndarray] = []
    names: set[str] = set()
    for column in columns:
        values = column.to_numpy(dtype=float)
        length = float(np.linalg.norm(values))
        left = values.copy()
        for _ in range(2):  # twice: classical Gram-Schmidt loses orthogonality once
            for direction in basis:
                left -= (direction @ left) * direction
        remaining = float(np.linalg.norm(left))
        if length > 0 and remaining > tolerance * length:
            basis.append(left / remaining)
            names.add(str(column.name))
    return names


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
