"""Words from the schema: every sentence names the outcome by its label and states changes in its unit."""

from __future__ import annotations

import json

import pytest

import bstate_stats as bs
from bstate_stats.reporting.config import config_from_dict
from bstate_stats.reporting.run import run_analysis
from bstate_stats.reporting.summary import executive_summary
from bstate_stats.schema.words import Words, words_for


@pytest.mark.parametrize(
    ("column", "scale", "change", "amount", "level"),
    [
        ("csat", "score_0_10", 0.104, "+0.10 satisfaction points", "8"),
        ("fcr", "proportion_0_1", 0.066, "+6.6 percentage points of first-contact resolution", "80%"),
        ("handle_time", "numeric", -12.0, "-12.00 seconds of handle time", "0.8"),
        ("nps_promoters", "percent_0_100", 2.5, "+2.5 percentage points of nps promoters", "0.8%"),
        ("absence_days", "count", 1.5, "+1.50 absence days", "0.8"),
        ("cost_to_serve", "currency", -0.24, "-0.24 of cost to serve per contact", "0.8"),
    ],
)
def test_changes_are_stated_in_the_outcomes_unit(column, scale, change, amount, level):
    words = words_for(column, scale)
    assert words.amount(change) == amount
    assert words.level(8.0 if column == "csat" else 0.8) == level
    assert Words.from_dict(json.loads(json.dumps(words.to_dict()))) == words  # survives the headline


def test_a_run_on_another_outcome_never_speaks_of_satisfaction(tmp_path):
    """outcome = "fcr", threshold = 0.8: the summary's and the sections' sentences name first-contact resolution in percentage points."""
    data = tmp_path / "data"
    bs.simulate.case_study(seed=5).write(data)
    config = config_from_dict(
        {
            "data": {"directory": str(data)},
            "model": {"outcome": "fcr", "threshold": 0.8},
            "fixed_effects": {"bootstrap_reps": 99, "chain_bootstrap_reps": 20},
            "hierarchical": {"enabled": False},
            "analysis": [{"kind": "importance", "bootstrap_reps": 49}, {"kind": "fixed_effects"}, {"kind": "threshold"}],
        }
    )
    outcome = run_analysis(config, tmp_path / "out", progress=lambda _: None)
    text = " ".join(executive_summary(outcome.headline).lines)
    sections = json.loads((tmp_path / "out" / "sections.json").read_text())
    titles = " ".join(section["title"] for section in sections)
    sentences = " ".join(" ".join(section.get("sentences", [])) for section in sections)
    assert "percentage points of first-contact resolution" in text and "percentage points of first-contact resolution" in sentences
    assert "for first-contact resolution" in titles and "P(first-contact resolution at or above 80%)" in titles
    assert "satisfaction" not in text + titles


def test_metrics_step_says_so_when_the_data_hold_no_internal_metrics(tmp_path):
    """The metrics step is in the default list: a panel without operational columns gets a sentence, not a failed run."""
    import pandas as pd

    data = tmp_path / "data"
    bs.simulate.case_study(seed=6).write(data)
    deliverables = pd.read_csv(data / "deliverables.csv").drop(columns=["service_level", "handle_time", "fcr", "churn"])
    deliverables.to_csv(data / "deliverables.csv", index=False)
    config = config_from_dict({"data": {"directory": str(data)}, "hierarchical": {"enabled": False}, "analysis": [{"kind": "metrics"}]})
    outcome = run_analysis(config, tmp_path / "out", progress=lambda _: None)
    sections = json.loads((tmp_path / "out" / "sections.json").read_text())
    assert outcome.status == "ok"
    assert any("no internal (operational) metrics" in " ".join(section.get("sentences", [])) for section in sections)


def test_levels_keep_the_decimals_a_rate_needs():
    """A 4.7% churn rate is not rounded to 5%; whole levels lose their trailing zeros."""
    assert words_for("churn", "proportion_0_1").level(0.047) == "4.7%"
    assert words_for("csat", "score_0_10").level(6.41873) == "6.42"
    assert words_for("handle_time", "numeric").level(1234.5) == "1,234.5"


def test_relative_importance_names_outcome_and_driver_by_their_labels():
    panel = bs.simulate.case_study(seed=5).panel()
    sentence = bs.relative_importance(panel, "fcr", ["habit_index", "service_level"], bootstrap_reps=19).sentence()
    assert sentence.startswith("Of the within-team variation of first-contact resolution") and "fcr" not in sentence

