"""Bayesian hierarchical engine without a real fit: model structure (sampling mocked), likelihoods, geometry, checks that must fail loudly."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.diagnostics.convergence import ConvergenceWarning
from bstate_stats.models.hierarchical.build import build_model
from bstate_stats.models.hierarchical.design import prepare_data
from bstate_stats.models.hierarchical.geometry import _spread, team_pilot
from bstate_stats.models.hierarchical.results import BAYES_COLUMNS, HierarchicalResults
from bstate_stats.models.hierarchical.spec import HierarchicalSpec

DRIVERS = ["habit_index", "relationship_index"]


def test_structure_with_mocked_sampling(mocked_sampler, small_study):
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


def test_single_team_region_and_single_period_team_warn(mocked_sampler, small_study):
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
