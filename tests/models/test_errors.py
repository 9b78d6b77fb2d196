"""Every error from the public API is a BStateError naming the column and the rule; nothing is reported as 0 +/- 0."""

from __future__ import annotations

import warnings

import pytest

import bstate_stats as bs


@pytest.fixture(scope="module")
def panel(small_study):
    base = small_study.panel()
    data = base.data
    return base.with_columns(
        {
            "constant": data["csat"] * 0 + 1,
            "team_constant": data.groupby(level="team")["habit_index"].transform("mean"),
            "constant_outcome": data["csat"] * 0 + 7,
            "team_constant_outcome": data.groupby(level="team")["csat"].transform("mean"),
            "habit_twice": data["habit_index"] * 2,
        }
    )


CASES = [
    ("unknown driver", lambda p: bs.fixed_effects(p, "csat", ["habit_idx"]), bs.ColumnError, "'habit_idx'"),
    ("unknown outcome", lambda p: bs.fixed_effects(p, "satisfaction", ["habit_index"]), bs.ColumnError, "'satisfaction'"),
    ("driver not text", lambda p: bs.fixed_effects(p, "csat", [1, 2]), bs.ColumnError, "must be text"),
    ("constant outcome", lambda p: bs.fixed_effects(p, "constant_outcome", ["habit_index"]), bs.SpecificationError, "constant_outcome is constant"),
    ("outcome constant within teams", lambda p: bs.fixed_effects(p, "team_constant_outcome", ["habit_index"]), bs.SpecificationError, "does not vary within any team"),
    ("constant driver alone", lambda p: bs.fixed_effects(p, "csat", ["constant"]), bs.SpecificationError, "constant is constant in the estimation sample"),
    ("team-constant driver alone", lambda p: bs.fixed_effects(p, "csat", ["team_constant"]), bs.SpecificationError, "constant within every team"),
    ("constant driver, random effects", lambda p: bs.fixed_effects(p, "csat", ["constant"], estimator="random"), bs.SpecificationError, "constant"),
    ("collinear drivers, random effects", lambda p: bs.fixed_effects(p, "csat", ["habit_index", "habit_twice"], estimator="random"), bs.SpecificationError, "collinear"),
    ("constant driver, first differences", lambda p: bs.fixed_effects(p, "csat", ["constant"], estimator="first_difference"), bs.SpecificationError, "constant"),
    ("outcome as a driver", lambda p: bs.fixed_effects(p, "csat", ["csat", "habit_index"]), bs.SpecificationError, "both the outcome and a driver"),
    ("text column as driver", lambda p: bs.fixed_effects(p, "csat", ["region"]), bs.SpecificationError, "not numeric"),
    ("lag of a non-driver", lambda p: bs.fixed_effects(p, "csat", ["habit_index"], lags={"revenue": 1}), bs.SpecificationError, "not among the drivers"),
    ("negative lag", lambda p: bs.fixed_effects(p, "csat", ["habit_index"], lags={"habit_index": -1}), bs.SpecificationError, "lead"),
    ("negative bootstrap reps", lambda p: bs.fixed_effects(p, "csat", ["habit_index"], bootstrap_reps=-5), bs.SpecificationError, "bootstrap_reps"),
    ("mundlak, team-constant driver", lambda p: bs.mundlak(p, "csat", ["team_constant"]), bs.SpecificationError, "does not vary within teams"),
    ("mundlak, constant outcome", lambda p: bs.mundlak(p, "constant_outcome", ["habit_index"]), bs.SpecificationError, "constant"),
    ("hausman, collinear drivers", lambda p: bs.hausman(p, "csat", ["habit_index", "habit_twice"]), bs.SpecificationError, "collinear within teams"),
    ("F-test, constant driver", lambda p: bs.team_effects_f_test(p, "csat", ["constant"]), bs.SpecificationError, "does not vary within teams"),
    ("threshold, first driver not identified", lambda p: bs.threshold_model(p, "csat", ["constant", "habit_index"]), bs.SpecificationError, "first driver, constant"),
    ("threshold, unknown outcome", lambda p: bs.threshold_model(p, "nope", ["habit_index"]), bs.ColumnError, "'nope'"),
    ("chain, constant habit", lambda p: bs.habit_to_revenue(p, habit="constant", bootstrap_reps=5, progress=False), bs.SpecificationError, "constant"),
    ("chain, threshold never crossed", lambda p: bs.habit_to_revenue(p, threshold=11, bootstrap_reps=5, progress=False), bs.SpecificationError, "never crosses 11"),
    ("chain, no replicates", lambda p: bs.habit_to_revenue(p, bootstrap_reps=0), bs.SpecificationError, "bootstrap_reps=0"),
    ("chain, negative periods per year", lambda p: bs.habit_to_revenue(p, bootstrap_reps=5, periods_per_year=-12), bs.SpecificationError, "periods_per_year=-12"),
    ("chain, missing control", lambda p: bs.habit_to_revenue(p, controls=("nope",), bootstrap_reps=5), bs.ColumnError, "'nope'"),
    ("revenue model, no revenue column", lambda p: bs.revenue_model(p, revenue="nope"), bs.ColumnError, "'nope'"),
    ("compare, not results", lambda p: bs.compare(["x"]), bs.SpecificationError, "fixed-effects results"),
    ("effect of an unknown term", lambda p: bs.fixed_effects(p, "csat", ["habit_index"]).effect("nope"), bs.ColumnError, "'nope' is not a term"),
    ("describe an unknown outcome", lambda p: p.describe(outcome="nope"), bs.ColumnError, "'nope'"),
    ("habits improved, unknown period", lambda p: p.habits_improved(baseline="2030-01"), bs.SpecificationError, "'2030-01' is not in the panel"),
    ("model frame, unknown column", lambda p: p.model_frame("csat", ["nope"]), bs.ColumnError, "'nope'"),
    ("hierarchical, unknown driver", lambda p: bs.hierarchical(p, "csat", ["nope"], random_seed=1), bs.ColumnError, "'nope'"),
    ("hierarchical, target_accept out of range", lambda p: bs.hierarchical(p, "csat", ["habit_index"], random_seed=1, target_accept=1.5), bs.SpecificationError, "target_accept"),
    ("hierarchical, negative seed", lambda p: bs.hierarchical(p, "csat", ["habit_index"], random_seed=-1), bs.SpecificationError, "random_seed"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_public_errors_name_the_column_and_rule(panel, call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message) as caught:
            call(panel)
    assert isinstance(caught.value, bs.BStateError)


def test_one_driver_as_a_string_is_one_driver(panel):
    assert list(bs.fixed_effects(panel, "csat", "habit_index").params.index) == ["habit_index"]


def test_team_constant_driver_beside_others_is_reported_without_a_number(panel):
    with pytest.warns(bs.EstimationWarning, match="team_constant is not identified"):
        fit = bs.fixed_effects(panel, "csat", ["team_constant", "habit_index"])
    summary = fit.summary().set_index("term")
    assert "team_constant" in fit.not_identified and summary.loc["team_constant"].isna()["estimate"]
    with pytest.raises(bs.SpecificationError, match="not identified"):
        fit.effect("team_constant")


def test_habits_improved_without_habit_items(small_study):
    panel = bs.Panel.from_frames(small_study.deliverables)
    with pytest.raises(bs.SpecificationError, match="no habit items"):
        panel.habits_improved()


def test_chain_replicates_that_cannot_identify_a_link_are_counted(panel):
    """One team-period at the threshold: resamples without that team cannot estimate the threshold's lift."""
    top = float(panel.data["csat"].max())
    with pytest.warns(bs.EstimationWarning, match=r"(\d+) of 30 bootstrap replicates could not identify") as caught:
        chain = bs.habit_to_revenue(panel, threshold=top, bootstrap_reps=30, progress=False)
    failed = int(next(w for w in caught if "replicates could not" in str(w.message)).message.args[0].split(" of ")[0])
    assert 0 < failed < 30 and len(chain.draws) == 30 - failed
    assert any("left out" in note for note in chain.notes())


def test_comparison_table_names_conventional_errors(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = bs.compare([bs.fixed_effects(panel, "csat", ["habit_index"], cluster=None), bs.fixed_effects(panel, "csat", ["habit_index"])]).frame
    assert list(table.loc["SE"]) == ["conventional", "cluster: team"]
