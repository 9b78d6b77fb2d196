"""Bayesian hierarchical engine: structure (mocked sampling), convergence checks, estimands against truth."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pymc.testing import mock_sample

import bstate_stats as bs
from bstate_stats.diagnostics.convergence import ConvergenceWarning
from bstate_stats.models.hierarchical.build import build_model
from bstate_stats.models.hierarchical.design import prepare_data
from bstate_stats.models.hierarchical.geometry import _spread, team_pilot
from bstate_stats.models.hierarchical.results import BAYES_COLUMNS, HierarchicalResults
from bstate_stats.models.hierarchical.spec import HierarchicalSpec

DRIVERS = ["habit_index", "relationship_index"]


@pytest.fixture
def mocked(monkeypatch):
    """pm.sample replaced by prior draws with fake sampler statistics (no compilation, no NUTS)."""
    monkeypatch.setattr(pm, "sample", lambda *args, **kwargs: mock_sample(draws=60, chains=2, sample_stats={"diverging": lambda size: np.zeros(size, dtype=bool)}, **{k: v for k, v in kwargs.items() if k in ("random_seed", "model")}))


@pytest.fixture(scope="module")
def study():
    return bs.simulate.case_study(seed=7)


@pytest.fixture(scope="module")
def fit(study):
    """One real, converged fit of the default case study (default settings: 4 chains x 2000 draws, nutpie, target_accept 0.9)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bs.hierarchical(study.panel(), "csat", DRIVERS, random_seed=1, progress=False)


def test_structure_with_mocked_sampling(mocked, small_study):
    with pytest.warns(ConvergenceWarning, match="NOT CONVERGED"):
        result = bs.hierarchical(small_study.panel(), "csat", DRIVERS, random_seed=3, progress=False)
    assert isinstance(result, HierarchicalResults)
    assert not result.converged and "NOT CONVERGED" in result.title and "NOT CONVERGED" in str(result)
    assert list(result.summary().columns) == BAYES_COLUMNS
    posterior = result.idata.posterior
    assert posterior["team_slope_offset"].sizes["team"] == 9 and posterior["region_intercept_offset"].sizes["region"] == 3
    assert result.meta["region_effects"] == "fixed"  # 3 regions: too few to estimate their spread
    assert "a new team in one of this organisation's regions" in result.estimand_note()  # not in a new region: no spread to draw one from
    assert {"bstate_spec", "bstate_priors", "bstate_data_hash", "bstate_versions"} <= set(result.idata.attrs)
    assert result.ledger.n_kept == len(small_study.deliverables)


@pytest.mark.parametrize("team_effects", ["centred", "non-centred"])
def test_model_is_well_posed(small_study, team_effects):
    spec = HierarchicalSpec("csat", tuple(DRIVERS), 0, team_effects=team_effects)
    arrays, meta, _ = prepare_data(small_study.panel(), spec)
    model = build_model(arrays, meta, spec, bs.Priors())
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.all(np.isfinite(model.compile_dlogp()(point)))
    free = {rv.name for rv in model.free_RVs}
    centred = team_effects == "centred"
    assert ("team_intercept" in free) == centred and ("team_intercept_z" in free) != centred
    assert ("team_slope_0" in free) == centred and ("team_slope_0_z" in free) != centred


def test_compiled_model_holds_no_strided_constant(small_study):
    """Every data constant in the numba-compiled log density (and gradient) is contiguous.

    numba embeds a contiguous constant array in the compiled code but refers to a
    strided one by its address, and code holding such an address is never cached:
    one driver column sliced from the driver matrix kept the whole model out of
    the compile cache (measured on the case study: 12-15 s to compile in every
    process, 8.7 s with the cache).
    """
    import pytensor
    from pytensor.graph.basic import Constant

    spec = HierarchicalSpec("csat", tuple(DRIVERS), 0, varying=tuple(DRIVERS))
    arrays, meta, _ = prepare_data(small_study.panel(), spec)
    model = build_model(arrays, meta, spec, bs.Priors())
    logp = model.logp()
    function = pytensor.function(model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode="NUMBA")
    constants = [v.data for v in function.maker.fgraph.variables if isinstance(v, Constant) and np.ndim(v.data) > 0]
    assert any(c.shape[0] == len(arrays["y"]) for c in constants)  # the data are in the graph as constants
    strided = [c.shape for c in constants if not (c.flags.c_contiguous or c.flags.f_contiguous)]
    assert not strided, strided


def test_convergence_is_checked_on_each_quantity_once():
    """Offsets (what the estimands read) stand for their free variables; stacked copies and unconstrained twins are skipped."""
    from bstate_stats.models.hierarchical.build import checked_parameters

    names = [
        "intercept", "effects_std", "team_sd", "team_intercept", "team_intercept_offset", "team_slope_sd", "team_slope_0_z", "team_slope_0_offset",
        "team_slope_offset", "region_slope_offset_0", "region_slope_offset", "period_sd", "period_effect_z", "period_effect", "effects", "sigma", "sigma_log__",
    ]
    assert checked_parameters(names) == [
        "intercept", "effects_std", "team_sd", "team_intercept_offset", "team_slope_sd", "team_slope_0_offset", "region_slope_offset_0", "period_sd", "period_effect", "effects", "sigma",
    ]


def test_large_panel_says_it_may_take_minutes():
    from bstate_stats.models.hierarchical.design import LARGE_PANEL_ROWS, warn_about_shape

    n_rows = 2 * LARGE_PANEL_ROWS
    arrays = {"y": np.zeros(n_rows), "team_idx": np.arange(n_rows) % 100, "team_region_idx": np.arange(100) % 4}
    with pytest.warns(bs.EstimationWarning, match=r"rows: sampling may take several minutes"):
        warn_about_shape(arrays, {"regions": ["a", "b", "c", "d"]})


def test_split_censored_likelihood_equals_pm_censored():
    """Interior rows Normal + bound rows censored == pm.Censored on every row (same point, same log density)."""
    ceiling = bs.simulate.case_study(seed=7, n_regions=2, teams_per_region=4, n_periods=8, baseline_csat=8.8, noise_sd=1.0)
    spec = HierarchicalSpec("csat", tuple(DRIVERS), 0)
    arrays, meta, _ = prepare_data(ceiling.panel(), spec)
    assert (arrays["y"] >= 10).sum() > 0
    split = build_model(arrays, meta, spec, bs.Priors())
    assert {"y", "y_at_bound"} <= {rv.name for rv in split.observed_RVs}
    reference = build_model(arrays, meta, spec, bs.Priors(), observed_as_data=True)  # pm.Censored on every row
    assert {rv.name for rv in reference.observed_RVs} == {"y"}
    rng = np.random.default_rng(0)
    logp, reference_logp = split.compile_logp(), reference.compile_logp()
    dlogp, reference_dlogp = split.compile_dlogp(), reference.compile_dlogp()
    for _ in range(3):
        point = {name: value + rng.normal(0, 0.3, np.shape(value)) for name, value in split.initial_point().items()}
        assert logp(point) == pytest.approx(reference_logp(point), abs=1e-8)
        np.testing.assert_allclose(dlogp(point), reference_dlogp(point), atol=1e-8)


def test_team_pilot_recovers_simulated_spread_and_picks_the_geometry():
    """Many periods, little noise: team levels are pinned down -> centred; few noisy periods -> non-centred."""
    informative = bs.simulate.case_study(seed=5, n_regions=4, teams_per_region=50, n_periods=12, team_sd=0.3, noise_sd=0.3)
    arrays, meta, _ = prepare_data(informative.panel(), HierarchicalSpec("csat", tuple(DRIVERS), 0))
    estimate, se = team_pilot(arrays, arrays["y"], meta["varying_idx"])[0]
    standard_errors, spread = _spread(estimate, se, arrays["team_region_idx"])
    assert spread == pytest.approx(0.3, abs=0.05)
    assert np.median(standard_errors) == pytest.approx(0.3 / np.sqrt(12), rel=0.15)
    assert meta["team_effects"]["intercept"] == "centred"
    weak = bs.simulate.case_study(seed=5, n_regions=4, teams_per_region=50, n_periods=4, programme_start=1, ramp_periods=2, team_sd=0.3, noise_sd=2.0)
    _, meta, _ = prepare_data(weak.panel(), HierarchicalSpec("csat", tuple(DRIVERS), 0))
    assert meta["team_effects"] == {"intercept": "non-centred", "habit_index": "non-centred"}
    _, meta, _ = prepare_data(weak.panel(), HierarchicalSpec("csat", tuple(DRIVERS), 0, team_effects="centred"))
    assert meta["team_effects"] == {"intercept": "centred", "habit_index": "centred"}


def test_priors_are_data():
    assert bs.Priors.from_mapping({"noise_sd": 0.5}).noise_sd == 0.5
    with pytest.raises(bs.SpecificationError, match="unknown prior"):
        bs.Priors.from_mapping({"slope": 1.0})
    with pytest.raises(bs.SpecificationError, match="positive"):
        bs.Priors.from_mapping({"noise_sd": -1.0})


def test_prior_predictive_is_plausible(small_study):
    panel = small_study.panel()
    table = bs.prior_predictive_check(panel, "csat", DRIVERS, samples=400).set_index("quantity")
    simulated, observed = table.loc["simulated outcome"], table.loc["observed outcome (for comparison)"]
    assert simulated["q05"] < observed["q05"] and simulated["q95"] > observed["q95"]  # wider than the data, not absurdly so
    assert simulated["q95"] - simulated["q05"] < 10 * (observed["q95"] - observed["q05"])
    # effect prior Normal(0, 1 outcome sd) per sd of the driver: 95% quantile 1.645 sd(csat) / sd(habit) * 10 per +10 points
    frame = panel.model_frame("csat", DRIVERS).data
    expected = 1.645 * frame["csat"].std(ddof=0) / frame["habit_index"].std(ddof=0) * 10
    assert table.loc["effect of +10 habit_index (link scale)", "q95"] == pytest.approx(expected, rel=0.15)


def test_bad_inputs(small_study):
    panel = small_study.panel()
    constant = panel.with_columns({"flat": pd.Series(7.0, index=panel.data.index)}, role="outcome")
    with pytest.raises(bs.SpecificationError, match="constant"):
        bs.hierarchical(constant, "flat", ["habit_index"], random_seed=1)
    no_variation = panel.with_columns({"same": pd.Series(50.0, index=panel.data.index)})
    with pytest.raises(bs.SpecificationError, match="no variation"):
        bs.hierarchical(no_variation, "csat", ["same"], random_seed=1)
    with pytest.raises(bs.SpecificationError, match="chains"):
        bs.hierarchical(panel, "csat", ["habit_index"], random_seed=1, chains=1)
    with pytest.raises(bs.SpecificationError, match="sampler"):
        bs.hierarchical(panel, "csat", ["habit_index"], random_seed=1, sampler="stan")


def test_single_team_region_and_single_period_team_warn(mocked, small_study):
    tables = {k: v.copy() for k, v in small_study.tables.items()}
    lone = tables["deliverables"].iloc[[0]].assign(team="LONE", region="Island")
    tables["deliverables"] = pd.concat([tables["deliverables"], lone], ignore_index=True)
    tables["habits"] = pd.concat([tables["habits"], tables["habits"].iloc[[0]].assign(team="LONE")], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bs.hierarchical(bs.Panel.from_frames(tables["deliverables"], tables["habits"]), "csat", ["habit_index"], random_seed=1, progress=False)
    messages = " ".join(str(w.message) for w in caught)
    assert "single period" in messages and "single team" in messages


def test_hard_fit_fails_its_checks_loudly(small_study):
    """A tiny tune and few draws cannot converge: the fit must say so, never pass as fine."""
    with pytest.warns(ConvergenceWarning) as caught:
        result = bs.hierarchical(small_study.panel(), "csat", ["habit_index"], random_seed=2, sampler="pymc", chains=2, tune=5, draws=40, progress=False)
    assert not result.converged
    failed = result.diagnostics.summary().set_index("check")
    assert not failed.loc["min bulk ESS", "ok"]
    assert "ESS" in str(caught[0].message) and "Remedies" in str(caught[0].message)


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


def test_same_seed_gives_the_same_draws(fit, study):
    """A seeded fit is reproducible: BLAS runs single-threaded under the chains, so sums do not depend on the machine's load."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = bs.hierarchical(study.panel(), "csat", DRIVERS, random_seed=1, progress=False)
    np.testing.assert_array_equal(again.draws("effects"), fit.draws("effects"))


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


def test_calibration_verdict_reads_the_ranks():
    """Uniform ranks pass; ranks piled at one end (a posterior biased against the truth) fail, by name."""
    from bstate_stats.models.hierarchical.calibrate import RANK_DRAWS, CalibrationResults

    rng = np.random.default_rng(0)
    uniform = pd.DataFrame({"simulation": np.arange(200), "parameter": "intercept", "truth": 0.0, "rank": rng.integers(0, RANK_DRAWS + 1, 200), "converged": True})
    skewed = uniform.assign(parameter="sigma", rank=np.minimum(rng.integers(0, RANK_DRAWS + 1, 200), rng.integers(0, RANK_DRAWS + 1, 200)))
    result = CalibrationResults(pd.concat([uniform, skewed]), RANK_DRAWS, "normal")
    table = result.summary().set_index("parameter")
    assert table.loc["intercept", "ok"] and not table.loc["sigma", "ok"]
    assert not result.calibrated and "NOT calibrated: ranks of sigma" in result.sentence()
    # coverage read from the ranks: each of the 100 possible ranks once, so exactly 90 lie in the central 90%
    every_rank = pd.DataFrame({"simulation": np.arange(RANK_DRAWS + 1), "parameter": "intercept", "truth": 0.0, "rank": np.arange(RANK_DRAWS + 1), "converged": True})
    assert CalibrationResults(every_rank, RANK_DRAWS, "normal").summary()["coverage"].iloc[0] == pytest.approx(0.90)
    # an overconfident posterior: the truth falls in the outer tenths of the draws half of the time
    outer = uniform.assign(rank=np.where(rng.random(200) < 0.5, rng.choice([0, 1, 2, 97, 98, 99], 200), uniform["rank"]))
    assert CalibrationResults(outer, RANK_DRAWS, "normal").summary()["coverage"].iloc[0] < 0.6
    # refits drawn a second time after divergences are counted once per simulation, not per parameter
    again = pd.concat([uniform.assign(drawn_again=uniform["simulation"] < 7), skewed.assign(drawn_again=skewed["simulation"] < 7)])
    assert "; 7 drawn again at target_accept 0.95 after divergent transitions" in CalibrationResults(again, RANK_DRAWS, "normal").sentence()


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


def test_a_fit_with_divergences_is_drawn_again_once_at_the_retry_target_accept():
    """Divergent draws are replaced by a second attempt at 0.95, and the first attempt is recorded; clean draws are kept as they are."""
    from bstate_stats.models.hierarchical.fit import RETRY_TARGET_ACCEPT, with_retry

    def fake(divergent_at: dict[float, int]):
        calls: list[float] = []

        def draw(target_accept: float):
            calls.append(target_accept)
            diverging = np.zeros((4, 100), dtype=bool)
            diverging.flat[: divergent_at.get(target_accept, 0)] = True
            return az.from_dict(posterior={"a": np.zeros((4, 100))}, sample_stats={"diverging": diverging})

        return draw, calls

    draw, calls = fake({0.9: 3})
    idata, first = with_retry(draw, 0.9)
    assert calls == [0.9, RETRY_TARGET_ACCEPT] and first == {"target_accept": 0.9, "divergences": 3}
    assert int(idata.sample_stats["diverging"].sum()) == 0
    draw, calls = fake({})
    assert with_retry(draw, 0.9)[1] is None and calls == [0.9]
    draw, calls = fake({0.95: 2, 0.99: 1})
    idata, first = with_retry(draw, 0.99)  # already above the retry's step: one attempt, its divergences left for the checks to report
    assert first is None and calls == [0.99] and int(idata.sample_stats["diverging"].sum()) == 1
