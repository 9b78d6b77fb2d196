"""Derived measures against hand-computed values on a small worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs
from bstate_stats.panel import derived

# Two teams, two periods, three habit items in percent; relationships on Likert 1-5.
DELIVERABLES = pd.DataFrame(
    {"team": ["A", "A", "B", "B"], "region": ["N", "N", "S", "S"], "period": [1, 2, 1, 2], "csat": [6.0, 7.0, 5.0, 8.5], "revenue": [10.0, 12.0, 8.0, 9.0]}
)
HABITS = pd.DataFrame({"team": ["A", "A", "B", "B"], "period": [1, 2, 1, 2], "h1": [40.0, 60.0, 50.0, 45.0], "h2": [30.0, 50.0, 20.0, 30.0], "h3": [80.0, 70.0, 60.0, 90.0]})
RELATIONSHIPS = pd.DataFrame(
    {"team": ["A", "A", "B", "B"], "period": [1, 2, 1, 2], "n_respondents": [10, 12, 8, 9], "r1": [3.0, 4.0, 2.0, 5.0], "r2": [2.0, 3.0, 1.0, 5.0]}
)


@pytest.fixture
def worked():
    return bs.Panel.from_frames(DELIVERABLES, HABITS, RELATIONSHIPS)


def test_habit_index_is_item_mean(worked):
    # A1: (40+30+80)/3 = 50; A2: (60+50+70)/3 = 60; B1: (50+20+60)/3 = 43.333; B2: (45+30+90)/3 = 55
    assert worked.data["habit_index"].to_numpy() == pytest.approx([50.0, 60.0, 130 / 3, 55.0])


def test_relationship_index_rescales_likert(worked):
    # Likert x -> (x - 1) / 4 * 100. A1: (50 + 25)/2 = 37.5; A2: (75+50)/2 = 62.5; B1: (25+0)/2 = 12.5; B2: 100
    assert worked.data["relationship_index"].to_numpy() == pytest.approx([37.5, 62.5, 12.5, 100.0])


def test_cronbach_alpha_hand_computed():
    items = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 2.0, 4.0, 4.0], "c": [1.0, 3.0, 3.0, 5.0]})
    # item variances 1.6667, 1.3333, 2.6667 (sum 5.6667); totals 4, 7, 10, 13 -> variance 15
    assert derived.cronbach_alpha(items) == pytest.approx(1.5 * (1 - 5.666666666666667 / 15))


def test_cronbach_alpha_undefined_cases():
    assert np.isnan(derived.cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0]})))
    assert np.isnan(derived.cronbach_alpha(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]})))


def test_share_of_habits_improved(worked):
    table = worked.habits_improved()
    # A: h1 up, h2 up, h3 down -> 2/3; B: h1 down, h2 up, h3 up -> 2/3
    assert table["n_improved"].tolist() == [2, 2]
    assert table["share_improved"].to_numpy() == pytest.approx([2 / 3, 2 / 3])
    assert table.attrs["overall_share"] == pytest.approx(4 / 6)
    assert table.loc["A", "baseline"] == 1 and table.loc["A", "compare"] == 2


def test_habit_index_needs_half_the_items():
    items = pd.DataFrame({"a": [10.0, np.nan], "b": [20.0, np.nan], "c": [np.nan, 30.0]})
    index = derived.item_index(items, {"a": "percent_0_100", "b": "percent_0_100", "c": "percent_0_100"})
    assert index.iloc[0] == pytest.approx(15.0) and np.isnan(index.iloc[1])


def test_long_form_habits_equal_wide():
    long = HABITS.melt(id_vars=["team", "period"], var_name="habit", value_name="score")
    wide_panel = bs.Panel.from_frames(DELIVERABLES, HABITS)
    long_panel = bs.Panel.from_frames(DELIVERABLES, long)
    assert long_panel.data["habit_index"].to_numpy() == pytest.approx(wide_panel.data["habit_index"].to_numpy())


def test_likert_habits_through_mapping():
    likert = HABITS.assign(h1=[1.0, 5.0, 3.0, 3.0], h2=[2.0, 2.0, 2.0, 4.0], h3=[5.0, 5.0, 1.0, 1.0])
    panel = bs.Panel.from_frames(DELIVERABLES, likert, mapping={"scales": {"habits": {"habit_item": "likert_1_5"}}})
    # A1: (0 + 25 + 100)/3
    assert panel.data["habit_index"].iloc[0] == pytest.approx(125 / 3)


def test_respondent_level_relationships_aggregate_with_counts():
    rows = pd.DataFrame(
        {
            "team": ["A"] * 3 + ["A"] * 2 + ["B"] * 2 + ["B"] * 2,
            "period": [1, 1, 1, 2, 2, 1, 1, 2, 2],
            "respondent": ["p1", "p2", "p3", "p1", "p2", "q1", "q2", "q1", "q2"],
            "r1": [3.0, 4.0, 5.0, 4.0, 4.0, 2.0, 2.0, 5.0, 5.0],
            "improved": [0, 1, 1, 1, 1, 0, 0, 1, 0],
        }
    )
    panel = bs.Panel.from_frames(DELIVERABLES, HABITS, rows)
    assert panel.data["n_respondents"].tolist() == [3, 2, 2, 2]
    assert panel.data["share_improved"].to_numpy() == pytest.approx([2 / 3, 1.0, 0.0, 0.5])
    # A1 mean r1 = 4 -> (4-1)/4*100 = 75
    assert panel.data["relationship_index"].iloc[0] == pytest.approx(75.0)


def test_reliability_is_reported(worked):
    assert set(worked.reliability) == {"habit_index", "relationship_index"}
