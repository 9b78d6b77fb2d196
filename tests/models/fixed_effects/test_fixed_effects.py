"""Fixed effects against independent implementations, published results and simulated truth.

Reference chain for the textbook values: Wooldridge, *Introductory Econometrics* (5th ed.),
data JTRAIN as shipped by linearmodels (``linearmodels.datasets.jobtraining``):
Example 14.1 (fixed effects, 1987-89) and Example 13.9-style first differences (1987-88).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from linearmodels import FirstDifferenceOLS, PanelOLS, RandomEffects
from linearmodels.datasets import jobtraining

import bstate_stats as bs

DRIVERS = ["habit_index", "relationship_index"]


@pytest.fixture(scope="module")
def panel():
    return bs.simulate.case_study(seed=1, n_regions=6, teams_per_region=6).panel()


@pytest.fixture(scope="module")
def frame(panel):
    data = panel.model_frame("csat", DRIVERS).data.reset_index()
    data["team"] = data["team"].astype(str)
    return data


def fit(panel, **options):
    options.setdefault("bootstrap_reps", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.EstimationWarning)
        return bs.fixed_effects(panel, "csat", DRIVERS, **options)


def test_within_equals_statsmodels_dummies(panel, frame):
    ours = fit(panel, small_sample="full")
    groups = pd.factorize(frame["team"])[0]
    reference = smf.ols("csat ~ habit_index + relationship_index + C(team) + C(t)", frame).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(ours.params[DRIVERS], reference.params[DRIVERS], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[DRIVERS], reference.bse[DRIVERS], rtol=1e-6)


def test_within_equals_linearmodels(panel, frame):
    ours = fit(panel, small_sample="full")
    data = frame.set_index(["team", "t"])
    reference = PanelOLS(data["csat"], data[DRIVERS], entity_effects=True, time_effects=True).fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True)
    np.testing.assert_allclose(ours.params[DRIVERS], reference.params[DRIVERS], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[DRIVERS], reference.std_errors[DRIVERS], rtol=1e-6)


@pytest.fixture(scope="module")
def region_frame(panel):
    data = panel.model_frame("csat", DRIVERS, extra=["region"]).data.reset_index()
    data["team"] = data["team"].astype(str)
    return data


FORMULA = "csat ~ habit_index + relationship_index + C(team) + C(t)"


def test_region_clusters_and_conventional_errors_equal_statsmodels(panel, region_frame):
    regions = fit(panel, cluster="region", small_sample="full")
    reference = smf.ols(FORMULA, region_frame).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(region_frame["region"])[0]})
    np.testing.assert_allclose(regions.std_errors[DRIVERS], reference.bse[DRIVERS], rtol=1e-6)
    assert regions.df == region_frame["region"].nunique() - 1
    conventional = fit(panel, cluster=None)
    np.testing.assert_allclose(conventional.std_errors[DRIVERS], smf.ols(FORMULA, region_frame).fit().bse[DRIVERS], rtol=1e-6)


def _cgm_twoway(reference, team: np.ndarray, period: np.ndarray, *, own_factor: bool) -> pd.Series:
    """Cameron-Gelbach-Miller two-way clustered standard errors written out: V = B (c1 M_team + c2 M_period - c12 M_both) B.

    ``own_factor``: each term scaled by its own G/(G-1) (statsmodels); otherwise one factor with the smaller G (fixest).
    """
    X, u = reference.model.exog, reference.resid.to_numpy()
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    both = pd.factorize(pd.Series(team).astype(str) + "|" + pd.Series(period).astype(str))[0]
    meats, counts = [], []
    for ids in (team, period, both):
        scores = pd.DataFrame(X * u[:, None]).groupby(ids).sum().to_numpy()
        meats.append(scores.T @ scores)
        counts.append(len(np.unique(ids)))
    g = min(counts[:2])
    factors = [c / (c - 1) for c in counts] if own_factor else [g / (g - 1)] * 3
    meat = factors[0] * meats[0] + factors[1] * meats[1] - factors[2] * meats[2]
    return pd.Series(np.sqrt(np.diag(bread @ meat @ bread) * (n - 1) / (n - k)), index=reference.params.index)


def test_twoway_clusters_equal_the_formula_and_differ_from_statsmodels_only_by_convention(panel, region_frame):
    """Ours uses one factor with the smaller G (fixest); statsmodels scales each term by its own G. Both written out by hand."""
    ours = fit(panel, cluster="twoway", small_sample="full")
    team, period = pd.factorize(region_frame["team"])[0], region_frame["t"].to_numpy()
    plain = smf.ols(FORMULA, region_frame).fit()
    np.testing.assert_allclose(ours.std_errors[DRIVERS], _cgm_twoway(plain, team, period, own_factor=False)[DRIVERS], rtol=1e-6)
    statsmodels = smf.ols(FORMULA, region_frame).fit(cov_type="cluster", cov_kwds={"groups": np.column_stack([team, period])})
    np.testing.assert_allclose(statsmodels.bse[DRIVERS], _cgm_twoway(plain, team, period, own_factor=True)[DRIVERS], rtol=1e-6)
    assert ours.df == min(len(np.unique(team)), len(np.unique(period))) - 1
    assert "the smaller number of clusters" in ours.se_convention


def test_nonnested_convention_rescales_full(panel, frame):
    """Nested fixed effects left out of K: SE_nonnested = SE_full * sqrt((N - K_full) / (N - K_nonnested))."""
    full, nonnested = fit(panel, small_sample="full"), fit(panel, small_sample="nonnested")
    n, k, teams, periods = len(frame), len(DRIVERS), frame["team"].nunique(), frame["t"].nunique()
    k_full, k_nonnested = k + teams + periods - 1, k + periods - 1 + 1
    factor = np.sqrt((n - k_full) / (n - k_nonnested))
    np.testing.assert_allclose(nonnested.std_errors, full.std_errors * factor, rtol=1e-6)


def test_conf_int_and_pvalues_use_t_with_g_minus_1(panel):
    from scipy import stats

    result = fit(panel)
    assert result.df == result.n_clusters - 1 == 35
    q = stats.t.ppf(0.975, 35)
    ci = result.conf_int()
    np.testing.assert_allclose(ci["conf_low"], result.params - q * result.std_errors)
    np.testing.assert_allclose(result.pvalues, 2 * stats.t.sf(np.abs(result.params / result.std_errors), 35))


def test_random_effects_equals_linearmodels(panel, frame):
    ours = fit(panel, estimator="random", effects="team")
    data = frame.set_index(["team", "t"])
    reference = RandomEffects(data["csat"], data[DRIVERS].assign(Intercept=1.0)).fit(cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True)
    np.testing.assert_allclose(ours.params[DRIVERS], reference.params[DRIVERS], rtol=1e-8)


def test_first_difference_equals_linearmodels(panel, frame):
    ours = fit(panel, estimator="first_difference", effects="none", cluster=None)
    data = frame.set_index(["team", "t"])
    reference = FirstDifferenceOLS(data["csat"], data[DRIVERS]).fit()
    np.testing.assert_allclose(ours.params[DRIVERS], reference.params[DRIVERS], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[DRIVERS], reference.std_errors[DRIVERS], rtol=1e-6)
    assert ours.ledger.n_excluded == frame["team"].nunique()  # each team's first period has no difference


@pytest.fixture(scope="module")
def jtrain():
    data = jobtraining.load()
    data = data.dropna(subset=["lscrap"])
    return bs.Panel.from_frame(data, team="fcode", period="year", outcomes=["lscrap"], drivers=["grant", "grant_1", "d88", "d89"])


def test_wooldridge_example_14_1_fixed_effects(jtrain):
    """Published: d88 -.080 (.109), d89 -.247 (.133), grant -.252 (.151), grant_1 -.422 (.210); n = 162, R2 = .201."""
    result = bs.fixed_effects(jtrain, "lscrap", ["d88", "d89", "grant", "grant_1"], effects="team", cluster=None)
    published = {"d88": (-0.080, 0.109), "d89": (-0.247, 0.133), "grant": (-0.252, 0.151), "grant_1": (-0.422, 0.210)}
    for term, (estimate, se) in published.items():
        assert result.params[term] == pytest.approx(estimate, abs=5e-4)
        assert result.std_errors[term] == pytest.approx(se, abs=5e-4)
    assert result.n_rows == 162 and result.n_teams == 54
    assert result.rsquared["within"] == pytest.approx(0.201, abs=5e-4)


def test_wooldridge_first_difference_1987_88(jtrain):
    """Published (two years): change in log scrap = -.057 (.097) - .317 (.164) change in grant; n = 54."""
    two_years = bs.Panel.from_frame(jtrain.data.reset_index().query("period <= 1988"), team="team", period="period", outcomes=["lscrap"], drivers=["grant"])
    result = bs.fixed_effects(two_years, "lscrap", ["grant"], estimator="first_difference", effects="team", cluster=None)
    assert result.params["grant"] == pytest.approx(-0.317, abs=5e-4)
    assert result.std_errors["grant"] == pytest.approx(0.164, abs=5e-4)
    assert result.params["Intercept"] == pytest.approx(-0.057, abs=5e-4)
    assert result.n_rows == 54


def test_recovers_habit_effect_on_simulated_truth():
    """Over 20 seeded studies (one slope for every team): each estimate lies within 4 standard errors of the truth, their mean within 3 Monte Carlo se.

    Tolerances come from the estimates' own standard errors, not a fixed 0.01 (which about a fifth of seeds missed).
    """
    errors, ses = [], []
    for seed in range(20):
        study = bs.simulate.case_study(seed=4 + seed, n_regions=6, teams_per_region=8, team_slope_sd=0, region_slope_sd=0, baseline_csat=4.5)
        result = fit(study.panel())
        errors.append(result.params["habit_index"] - study.truth.habit_effect / 10)
        ses.append(result.std_errors["habit_index"])
    errors, ses = np.array(errors), np.array(ses)
    assert np.all(np.abs(errors) < 4 * ses)
    assert abs(errors.mean()) < 3 * errors.std(ddof=1) / np.sqrt(len(errors))
    assert result.effect("habit_index", 10)["estimate"] == pytest.approx(result.params["habit_index"] * 10)


def test_lagged_driver_built_from_index(panel):
    result = fit(panel, lags={"habit_index": 1})
    assert "habit_index_lag1" in result.params.index
    assert result.ledger.n_excluded == len(panel.teams)
    data = panel.data.assign(lagged=panel.data.groupby(level="team")["habit_index"].shift(1)).dropna(subset=["lagged"]).reset_index()
    reference = smf.ols("csat ~ lagged + relationship_index + C(team) + C(t)", data).fit()
    assert result.params["habit_index_lag1"] == pytest.approx(reference.params["lagged"], rel=1e-8)


def test_region_constant_driver_is_not_identified(panel):
    data = panel.data.copy()
    region_level = data["region"].map({r: k for k, r in enumerate(panel.regions)}).astype(float)
    with_constant = panel.with_columns({"region_size": region_level})
    with pytest.warns(bs.EstimationWarning, match="region_size is not identified"):
        result = bs.fixed_effects(with_constant, "csat", ["habit_index", "region_size"], bootstrap_reps=0)
    assert "region_size" not in result.params.index
    assert "constant within every team" in result.not_identified["region_size"]
    summary = result.summary().set_index("term")
    assert np.isnan(summary.loc["region_size", "estimate"]) and "not identified" in summary.loc["region_size", "note"]


def test_collinear_driver_is_not_identified(panel):
    doubled = panel.with_columns({"habit_twice": panel.data["habit_index"] * 2})
    with pytest.warns(bs.EstimationWarning):
        result = bs.fixed_effects(doubled, "csat", ["habit_index", "habit_twice"], bootstrap_reps=0)
    assert list(result.not_identified) == ["habit_twice"]
    alone = bs.fixed_effects(panel, "csat", ["habit_index"], bootstrap_reps=0)
    assert result.params["habit_index"] == pytest.approx(alone.params["habit_index"], rel=1e-10)


def test_missing_driver_values_counted(panel):
    data = panel.data["habit_index"].copy()
    data.iloc[[0, 5, 40]] = np.nan
    holed = panel.with_columns({"habit_index": data}, role="habit_index", scale="percent_0_100")
    result = fit(holed)
    assert result.ledger.n_excluded == 3 and result.n_rows == panel.n_rows - 3
    assert {e.reason for e in result.ledger.entries} == {"missing habit_index"}


def test_single_period_teams_counted_not_silently_dropped(small_study):
    deliverables = pd.concat([small_study.deliverables, small_study.deliverables.iloc[[0]].assign(team="LONE")], ignore_index=True)
    habits = pd.concat([small_study.habits, small_study.habits.iloc[[0]].assign(team="LONE")], ignore_index=True)
    panel = bs.Panel.from_frames(deliverables, habits)
    result = bs.fixed_effects(panel, "csat", ["habit_index"], bootstrap_reps=0)
    (entry,) = result.ledger.entries
    assert entry.n_rows == 1 and "single period" in entry.reason
    assert result.n_rows + result.ledger.n_excluded == panel.n_rows


def test_one_cluster_is_an_error(panel):
    one_region = panel.with_columns({"region": pd.Series("All", index=panel.data.index)}, role="region")
    with pytest.raises(bs.SpecificationError, match="at least 2"):
        bs.fixed_effects(one_region, "csat", DRIVERS, cluster="region", bootstrap_reps=0)


def test_bad_options_rejected(panel):
    with pytest.raises(bs.SpecificationError, match="effects"):
        bs.fixed_effects(panel, "csat", DRIVERS, effects="three-way")
    with pytest.raises(bs.SpecificationError, match="random"):
        bs.fixed_effects(panel, "csat", DRIVERS, estimator="random", effects="none")


def test_generic_panel_without_regions_refuses_region_clusters(jtrain):
    with pytest.raises(bs.SpecificationError, match="regions"):
        bs.fixed_effects(jtrain, "lscrap", ["grant"], cluster="region")


def test_results_render_and_serialise(panel, tmp_path):
    result = fit(panel)
    summary = result.summary()
    assert list(summary.columns[:6]) == ["term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
    assert "habit_index" in result.to_markdown() and "\\begin{tabular}" in result.to_latex() and "<table" in result._repr_html_()
    assert "Standard errors: clustered by team" in str(result)
    path = result.save(tmp_path / "fe.json")
    import json

    saved = json.loads(path.read_text())
    assert saved["summary"][0]["estimate"] == pytest.approx(result.params.iloc[0])
    from matplotlib.figure import Figure

    assert isinstance(result.plot(change=10), Figure)


def test_compare_lays_out_estimates(panel):
    a, b = fit(panel), fit(panel, estimator="random", effects="team")
    table = bs.compare([a, b], names=["FE", "RE"], stars=True)
    assert table.frame.loc["habit_index", "FE"].startswith(f"{a.params['habit_index']:.4f}")
    assert table.frame.loc["habit_index ", "RE"] == f"({b.std_errors['habit_index']:.4f})"
    assert table.frame.loc["N", "FE"] == str(a.n_rows)
    assert "| habit_index |" in table.to_markdown()
