"""Several outcomes at once: families from the schema, effects at the current level, yearly volumes and money, words."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.models.outcomes import outcome_spec

SETTINGS = {
    "customers_lost": {"target": 0.04, "unit_value": 25.0},
    "leavers": {"target": 0.015, "unit_value": 8000.0},
    "absence_days": {"target": 0.03, "unit_value": 180.0},
    "cost_to_serve": {"target": 5.5, "volume": "customers"},
    "csat": {"target": 8.0, "direction": "at_least"},
}


@pytest.fixture(scope="module")
def study():
    return bs.simulate.case_study(seed=5)


@pytest.fixture(scope="module")
def result(study):
    return bs.outcome_effects(study.panel(), SETTINGS, controls=["relationship_index"], bootstrap_reps=199)


def _last_year(study, column: str, weight: str | None = None) -> float:
    data = study.deliverables
    recent = data["period"].isin(sorted(data["period"].unique())[-12:])
    values = data.loc[recent, column] * (data.loc[recent, weight] if weight else 1)
    return float(values.sum())


def test_families_come_from_the_schema(study):
    """A count declared as counted out of another column is its rate (Poisson with that exposure); a cost is logged and is money already."""
    panel = study.panel()
    churn, cost, csat = (outcome_spec(panel, c) for c in ("customers_lost", "cost_to_serve", "csat"))
    assert (churn.family, churn.exposure) == ("poisson", "customers")
    assert (cost.family, cost.exposure, cost.unit_value) == ("log", None, 1.0)
    assert (csat.family, csat.exposure, csat.unit_value) == ("linear", None, None)
    without_exposure = bs.Panel.from_frames(study.deliverables.drop(columns="headcount"), study.habits, study.relationships)
    assert (outcome_spec(without_exposure, "leavers").family, outcome_spec(without_exposure, "leavers").exposure) == ("poisson", None)


def test_each_row_is_its_fixed_effects_fit(result, study):
    """The table repeats what bs.fixed_effects says for each outcome and family (at the outcome's level)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.EstimationWarning)
        fit = bs.fixed_effects(study.panel(), "leavers", ["habit_index", "relationship_index"], family="poisson", exposure="headcount", bootstrap_reps=199)
    row = result.summary().set_index("outcome").loc["leavers"]
    expected = fit.effect_on_outcome("habit_index", 10)
    assert row["estimate"] == pytest.approx(expected["estimate"])
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((expected["conf_low"], expected["conf_high"]))
    assert row["n_excluded"] == fit.ledger.n_excluded and row["n_rows"] == fit.n_rows


def test_yearly_change_and_money(result, study):
    """Rates: (ratio - 1) x last year's events, valued per event avoided; costs: (ratio - 1) x last year's total cost; scores carry no money."""
    table = result.summary().set_index("outcome")
    churn = table.loc["customers_lost"]
    assert churn["per_year"] == pytest.approx((churn["ratio"] - 1) * _last_year(study, "customers_lost"))
    assert churn["money"] == pytest.approx(-churn["per_year"] * 25.0)
    low, high = sorted((churn["money_low"], churn["money_high"]))
    assert low < churn["money"] < high
    cost = table.loc["cost_to_serve"]
    assert cost["per_year"] == pytest.approx((cost["ratio"] - 1) * _last_year(study, "cost_to_serve", "customers"))
    assert cost["money"] == pytest.approx(-cost["per_year"])
    csat = table.loc["csat"]
    assert np.isnan(csat["per_year"]) and np.isnan(csat["money"])


def test_effects_recover_the_simulated_truth():
    """On a large simulated organisation, each rate's and the cost's ratio per +10 habit points holds the true ratio in its 99% interval."""
    study = bs.simulate.case_study(seed=3, n_regions=8, teams_per_region=12, n_periods=24, programme_regions=4, headcount_per_team=60)
    result = bs.outcome_effects(study.panel(), ["customers_lost", "leavers", "absence_days", "cost_to_serve"], controls=["relationship_index"], confidence_level=0.99)
    for row in result.summary().itertuples():
        truth = np.exp(study.truth.outcome_effects[row.outcome]["habit_index"])  # effects are per +10 points
        low, high = (row.conf_low / row.level + 1, row.conf_high / row.level + 1)
        assert low < truth < high, (row.outcome, low, truth, high)


def test_words_come_from_the_schema(result):
    """Rates are said as their rate labels in percentage points; the yearly change names what it counts."""
    sentence = result.sentence()
    assert sentence.startswith("With +10 habit points, within teams: Churn: ")
    assert "percentage points of churn" in sentence and "percentage points of attrition" in sentence and "of cost to serve per contact" in sentence
    assert "customers lost a year" in sentence and "satisfaction points" in sentence
    brief = result.brief().set_index("outcome")
    assert brief.loc["churn", "target"] == "<= 4%" and brief.loc["satisfaction", "target"] == ">= 8"


def test_plot_marks_the_better_direction(result):
    from matplotlib.figure import Figure

    figure = result.plot()
    assert isinstance(figure, Figure)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert set(labels) == {"churn", "attrition", "absenteeism", "cost to serve", "satisfaction"}


def test_bad_settings_are_named(study):
    panel = study.panel()
    with pytest.raises(bs.SpecificationError, match="unknown outcome setting"):
        bs.outcome_effects(panel, {"customers_lost": {"targett": 0.04}})
    with pytest.raises(bs.SpecificationError, match="unit_value"):
        bs.outcome_effects(panel, {"customers_lost": {"unit_value": -1.0}})
    with pytest.raises(bs.ColumnError, match="'visits'"):
        bs.outcome_effects(panel, {"cost_to_serve": {"volume": "visits"}})
    with pytest.raises(bs.SpecificationError, match="not among the outcomes"):
        bs.outcome_effects(panel, ["customers_lost"], bayesian=["leavers"])


@pytest.mark.slow
def test_bayesian_target_probability_matches_its_hierarchical_fit(study):
    """With bayesian=True the table's P(target) is the binomial hierarchical fit's, and the churn fit converges at the defaults."""
    panel = study.panel()
    result = bs.outcome_effects(panel, {"customers_lost": SETTINGS["customers_lost"]}, controls=["relationship_index"], bayesian=True, bootstrap_reps=0)
    row = result.summary().iloc[0]
    fit = result.bayes["customers_lost"]
    assert fit.converged and row["converged"]
    assert row["prob_after"] == pytest.approx(fit.prob_target(change=10).iloc[0]["mean"])
    assert row["prob_after"] > row["prob_now"]
    # the Bayesian slope (logit, per +10 points) and the fixed-effects one (log rate) agree: at a 5% rate the two links nearly coincide
    bayes_effect = fit.effects("population").iloc[0]["mean"]
    fe_effect = result.fits["customers_lost"].params["habit_index"] * 10
    assert bayes_effect == pytest.approx(fe_effect, abs=0.02)
    assert pd.notna(row["required_change"])
    # its money: the ratio of expected customers lost over the last year's rows, valued per customer; near the fixed-effects figure
    period = fit.arrays["period_idx"]
    ratio = fit.setting.expected_ratio(np.flatnonzero(period > period.max() - 12), 0, 10.0)
    assert row["bayes_money"] == pytest.approx(float(np.mean(-(ratio - 1) * row["per_year"] / (row["ratio"] - 1) * 25.0)))
    assert row["bayes_money_low"] < row["money"] < row["bayes_money_high"]
