"""Bayesian hierarchical engine on real fits: convergence, estimands and revenue against truth, reproducibility (structure: test_model_structure.py)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.models.hierarchical.design import prepare_data
from bstate_stats.models.hierarchical.fit import model_key
from bstate_stats.models.hierarchical.results import HierarchicalResults

DRIVERS = ["habit_index", "relationship_index"]


@pytest.fixture(scope="module")
def study():
    return bs.simulate.case_study(seed=7)


@pytest.fixture(scope="module")
def fit(study):
    """One real, converged fit of the default case study (default settings: 4 chains x 2000 draws, nutpie, target_accept 0.9)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.hierarchical(study.panel(), "csat", DRIVERS, random_seed=1, progress=False)


def test_real_fit_converges_and_recovers_truth(fit, study):
    assert fit.converged, fit.diagnostics.message()
    effect = fit.habit_effects("population").iloc[0]
    assert effect["hdi_low"] < study.truth.habit_effect < effect["hdi_high"]
    regions = fit.habit_effects("region").set_index("unit")
    covered = [regions.loc[r, "hdi_low"] < v < regions.loc[r, "hdi_high"] for r, v in study.truth.region_habit_effects.items()]
    assert np.mean(covered) >= 0.75


def test_population_effect_agrees_with_fixed_effects(fit, study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fe = bs.fixed_effects(study.panel(), "csat", DRIVERS, bootstrap_reps=0)
    bayes = fit.habit_effects("population").iloc[0]["mean"]
    assert bayes == pytest.approx(fe.params["habit_index"] * 10, abs=0.1)  # tolerance: 0.1 points per +10


def test_prob_above_is_monotone_and_required_change_hits_target(fit):
    curve = fit.prob_curve(np.linspace(0, 30, 16))
    assert np.all(np.diff(curve["mean"].to_numpy()) > 0)
    required = fit.required_habit_change(prob=0.8).iloc[0]
    assert required["reachable"]
    assert fit.prob_above(habit_change=required["required_change"]).iloc[0]["mean"] == pytest.approx(0.8, abs=1e-6)
    assert required["hdi_low"] < required["required_change"] < required["hdi_high"]


def test_required_change_not_reachable_is_said_plainly(fit):
    impossible = fit.required_habit_change(threshold=10.5, prob=0.5).iloc[0]
    assert not impossible["reachable"] and "not reachable" in impossible["note"]


@pytest.mark.parametrize("level", ["population", "region"])
@pytest.mark.parametrize("threshold", [0.0, 5.0, 8.0, 9.5, 10.0, 10.5, 12.0])
def test_required_change_agrees_with_prob_above_everywhere(fit, level, threshold):
    """Reachable exactly when P at the top of the habit scale reaches the target; then P(required) hits it; otherwise no interval."""
    table = fit.required_habit_change(threshold=threshold, prob=0.8, level=level)
    for _, row in table.iterrows():
        at_top = fit.prob_above(threshold, habit_change=100 - row["current_habit"], level=level).set_index("unit").loc[row["unit"], "mean"]
        assert row["reachable"] == (at_top >= 0.8)
        if row["reachable"]:
            reached = fit.prob_above(threshold, habit_change=row["required_change"], level=level).set_index("unit").loc[row["unit"], "mean"]
            assert reached == pytest.approx(0.8, abs=1e-6) if row["required_change"] > 0 else reached >= 0.8
            assert row["share_reachable"] > 0
        else:
            assert np.isnan(row["required_change"]) and np.isnan(row["hdi_low"]) and np.isnan(row["hdi_high"])
            assert "not reachable" in row["note"]
        if threshold > 10:
            assert row["share_reachable"] == 0 and at_top == 0
        if threshold <= 0:
            assert row["required_change"] == 0 and at_top == 1


def test_team_required_change_recovers_truth(fit, study):
    """Truth per team: (8 + z(0.8) sigma - expected score in its latest period) / slope, in habit points."""
    from scipy import stats

    table = fit.required_habit_change(prob=0.8, level="team").set_index("unit")
    latent = study.latent[study.latent["period"] == study.latent["period"].max()].set_index("team")
    truth = (8 + stats.norm.ppf(0.8) * study.truth.noise_sd - latent["expected_csat"]) / latent["habit_slope"] * 10
    truth = truth.clip(lower=0)
    covered = [(table.loc[t, "hdi_low"] - 1e-9) <= v <= (table.loc[t, "hdi_high"] + 1e-9) for t, v in truth.items() if table.loc[t, "reachable"] and v > 0]
    assert len(covered) >= 10 and np.mean(covered) >= 0.75


@pytest.fixture(scope="module")
def revenue_fit(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.bayesian_revenue(study.panel(), random_seed=2, progress=False)


def test_revenue_model_of_its_own_agrees_with_fixed_effects(revenue_fit, study):
    """The log revenue premium agrees with the two-way fixed-effects estimate (an independent implementation) within half its standard error."""
    assert revenue_fit.converged, revenue_fit.diagnostics.message()
    premium = revenue_fit.effects("population").iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fe = bs.revenue_model(study.panel(), bootstrap_reps=0).fit
    assert premium["mean"] == pytest.approx(float(fe.params.iloc[0]), abs=0.5 * float(fe.std_errors.iloc[0]))
    assert premium["mean"] == pytest.approx(study.truth.revenue_log_lift, abs=0.05)


@pytest.mark.slow
def test_revenue_premium_interval_covers_the_truth_over_40_studies():
    """The 90% interval of the log revenue premium covers the truth in 80-99% of 40 simulated case studies (2 binomial se around 90%).

    The check behind a worry from one seed: there the Bayesian interval (sd 0.010) missed the truth while the
    fixed-effects cluster-robust se was 0.017. With noise as the model states it, the model-based interval is the
    calibrated one; this counts how often it covers.
    """
    covered = []
    for seed in range(40):
        study = bs.simulate.case_study(seed=900 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            premium = bs.bayesian_revenue(study.panel(), random_seed=seed, progress=False)
        assert premium.converged, premium.diagnostics.message()
        row = premium.effects("population").iloc[0]
        covered.append(row["hdi_low"] < study.truth.revenue_log_lift < row["hdi_high"])
    print(f"revenue premium: 90% interval covered the truth in {np.mean(covered):.0%} of {len(covered)} studies")
    assert 0.80 <= np.mean(covered) <= 0.99


def test_revenue_lift_recovers_truth(fit, revenue_fit, study):
    """The truth lies within 3 posterior sd of the mean (a calibrated posterior misses 1 time in 370).

    Not the 90% interval itself: this data seed (the demo's) draws a revenue premium 2.4 posterior sd below the truth
    (0.669 for log 2 = 0.693; fixed effects 0.674 +/- 0.017); over seeds 1-8 the 90% interval of the premium covered
    the truth 7 times of 8, as a 90% interval should.
    """
    result = bs.bayesian_revenue_lift(fit, revenue_fit, 10)
    lift = result.summary().iloc[0]
    truth = study.true_revenue_lift(10)
    assert abs(lift["mean"] - truth) < 3 * float(np.std(result.draws))
    assert lift["prob_positive"] > 0.99
    by_team = bs.bayesian_revenue_lift(fit, revenue_fit, 10, by="team").summary()
    assert by_team["mean"].sum() == pytest.approx(lift["mean"], rel=1e-9)


def test_save_load_roundtrip(fit, tmp_path):
    path = fit.save(tmp_path / "posterior.nc")
    loaded = HierarchicalResults.load(path)
    assert loaded.converged == fit.converged
    pd.testing.assert_frame_equal(loaded.summary(), fit.summary())
    assert loaded.prob_above(habit_change=10).iloc[0]["mean"] == pytest.approx(fit.prob_above(habit_change=10).iloc[0]["mean"])
    assert loaded.idata.attrs["bstate_data_hash"] == fit.idata.attrs["bstate_data_hash"]


def test_plots(fit):
    from matplotlib.figure import Figure

    for figure in (fit.plot_effects("region"), fit.plot_ppc(), fit.plot_prob_curve()):
        assert isinstance(figure, Figure)


def _unbalanced_study(seed: int):
    """4 regions x 5 teams x 12 months with slopes varying by team and region (the hard part) and 8% of rows missing."""
    study = bs.simulate.case_study(seed=seed, n_regions=4, teams_per_region=5, n_periods=12, programme_start=4, ramp_periods=4)
    rng = np.random.default_rng(seed)
    tables = {name: frame.copy() for name, frame in study.tables.items()}
    tables["deliverables"] = tables["deliverables"][rng.random(len(tables["deliverables"])) >= 0.08]
    return study, bs.Panel.from_frames(**tables)


def _new_team_truth(study, result) -> float:
    """A new team's expected slope: in a new region when regions are pooled; else in one of the study's regions, in proportion to their teams."""
    if result.meta["region_effects"] == "partial_pooling":
        return study.truth.habit_effect
    teams_per_region = study.deliverables.groupby("region")["team"].nunique()
    slopes = pd.Series(study.truth.region_habit_effects).reindex(teams_per_region.index)
    return float((slopes * teams_per_region).sum() / teams_per_region.sum())


@pytest.mark.slow
def test_coverage_of_both_estimands_over_100_unbalanced_studies():
    """90% intervals cover the truth in 84-96% of 100 studies (2 binomial se around 90%), unconverged fits counted apart.

    Each estimand against its own truth: this organisation's teams against the mean of the simulated teams' slopes, a new
    team against the expected slope of a team drawn where the engine draws it (4 regions are too few to pool, so one of
    these regions, not a new one: against the population slope of a new region it covered 81%). Power, said plainly: 100 studies flag an engine whose intervals cover 80% of the
    time with probability 0.84, one that covers 85% only with probability 0.4; ``bs.calibrate`` (SBC, slow test below)
    is the sharper check of the same engine.
    """
    hits = {"teams": [], "new_team": []}
    unconverged = 0
    for seed in range(100):
        study, panel = _unbalanced_study(600 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = bs.hierarchical(panel, "csat", DRIVERS, random_seed=seed, progress=False)
        if not result.converged:
            unconverged += 1
            continue
        truths = {"teams": study.latent.groupby("team")["habit_slope"].first().mean(), "new_team": _new_team_truth(study, result)}
        for estimand, truth in truths.items():
            effect = result.effects("population", estimand=estimand).iloc[0]
            hits[estimand].append(effect["hdi_low"] < truth < effect["hdi_high"])
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    print(f"coverage of the 90% interval over {len(hits['teams'])} converged fits: {coverage}; unconverged: {unconverged}")
    assert unconverged <= 5
    assert all(0.84 <= c <= 0.96 for c in coverage.values()), coverage


def test_results_contract(fit):
    from matplotlib.figure import Figure

    items = fit.report_items()
    pd.testing.assert_frame_equal(items.table, fit.summary())
    effect = fit.habit_effects("population").iloc[0]
    assert f"{effect['mean']:+.3f}" in items.sentence and ("NOT converged" in items.sentence) != fit.converged
    assert items.headline["effect"] == effect["mean"] and items.headline["converged"] == fit.converged
    assert all(isinstance(f, Figure) for f in items.figures.values())
    assert fit.to_dict()["headline"] == items.headline


def test_same_seed_gives_the_same_draws(fit, study, monkeypatch):
    """A seeded fit is reproducible: BLAS runs single-threaded under the chains, so sums do not depend on the machine's load.

    The refit samples the model compiled for the first fit (same data, same specification): nothing is compiled
    again, and a fit of other data or with other priors is compiled anew.
    """
    import nutpie

    compiled, compile_model = [], nutpie.compile_pymc_model
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model: compiled.append(model) or compile_model(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = bs.hierarchical(study.panel(), "csat", DRIVERS, random_seed=1, progress=False)
    np.testing.assert_array_equal(again.draws("effects"), fit.draws("effects"))
    assert compiled == []
    arrays, meta, _ = prepare_data(study.panel(), fit.spec)
    key = model_key(arrays, meta, fit.spec, fit.priors)
    assert key == model_key(arrays, meta, replace(fit.spec, draws=10, random_seed=9, target_accept=0.99), fit.priors)  # how it is sampled is no part of the model
    assert key != model_key(arrays, meta, fit.spec, replace(fit.priors, effect_sigma=fit.priors.effect_sigma / 2))
    assert key != model_key({**arrays, "y": arrays["y"] + 0.01}, meta, fit.spec, fit.priors)
    assert key != model_key(arrays, {**meta, "teams": [f"{team}x" for team in meta["teams"]]}, fit.spec, fit.priors)  # labels name the draws


def test_new_team_prediction_matches_the_closed_form(fit):
    """Normal family, a new team in a known region: P(y >= c) = 1 - Phi((c - m) / sqrt(sigma^2 + sd_a^2 + (sd_b x)^2)), per draw."""
    from scipy import stats

    setting = fit.setting
    d, meta, arrays = setting.draws, fit.meta, fit.arrays
    table = fit.prob_target(8.0, level="region", estimand="new_team")
    for unit in setting.units("region"):
        x_raw = arrays["x_raw"][unit.rows].mean(axis=0)
        x = (x_raw - np.asarray(meta["driver_mean"])) / np.asarray(meta["driver_sd"])
        centre = d.intercept + d.effects_std @ x + d.region_offset[:, unit.region] + d.region_slope[:, unit.region, 0] * x[0] + d.period[:, -1]
        spread = np.sqrt(d.aux**2 + d.team_sd**2 + (d.team_slope_sd[:, 0] * x[0]) ** 2)
        exact = float(np.mean(stats.norm.sf(8.0, centre, spread)))
        assert table.set_index("unit").loc[unit.name, "mean"] == pytest.approx(exact, abs=0.01)


@pytest.mark.slow
def test_calibration_of_the_engine_on_a_small_panel(small_study):
    """Simulation-based calibration over 100 datasets from the priors: every checked parameter's ranks are uniform."""
    result = bs.calibrate(small_study.panel(), "csat", ["habit_index"], family="normal", simulations=100, random_seed=3, progress=False)
    print(result.summary())
    assert result.calibrated, result.sentence()


def test_revenue_lift_counts_rows_without_revenue(fit, study):
    """Rows of the latest year without revenue are counted and said, not silently dropped."""
    tables = {k: v.copy() for k, v in study.tables.items()}
    latest = tables["deliverables"]["period"] == tables["deliverables"]["period"].max()
    gone = tables["deliverables"].index[latest][:5]
    tables["deliverables"].loc[gone, "revenue"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        revenue_fit = bs.bayesian_revenue(bs.Panel.from_frames(*tables.values()), random_seed=2, progress=False)
    lift = bs.bayesian_revenue_lift(fit, revenue_fit, 10)
    assert lift.rows_without_revenue == 5 and "5 team-period(s)" in lift.notes()[0]
