"""Every family's results keep one contract: summary, plot, to_dict/save, report items whose numbers are the summary's."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from matplotlib.figure import Figure

import bstate_stats as bs
from bstate_stats.results.base import Results


@pytest.fixture(scope="module")
def fits(small_study):
    panel = small_study.panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "fixed_effects": bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], bootstrap_reps=0),
            "threshold": bs.threshold_model(panel, "csat", ["habit_index"], bootstrap_reps=0),
            "revenue": bs.revenue_model(panel, bootstrap_reps=0),
            "chain": bs.habit_to_revenue(panel, bootstrap_reps=20, progress=False),
        }


@pytest.mark.parametrize("family", ["fixed_effects", "threshold", "revenue", "chain"])
def test_contract(fits, family, tmp_path):
    result = fits[family]
    assert isinstance(result, Results)
    items = result.report_items()
    pd.testing.assert_frame_equal(items.table, result.summary())
    assert items.title == result.title and items.sentence == result.sentence()
    assert all(isinstance(f, Figure) and f.axes and f.axes[0].has_data() for f in items.figures.values())
    record = result.to_dict()
    assert json.loads(json.dumps(record, default=str)) == json.loads((result.save(tmp_path / "r.json")).read_text())
    assert items.headline == result.headline() and all(isinstance(v, (int, float, bool)) for v in items.headline.values())


def test_sentences_carry_the_summary_numbers(fits):
    fe = fits["fixed_effects"]
    low, high = fe.conf_int().loc["habit_index"]
    assert f"{fe.params['habit_index']:+.4g}" in fe.sentence() and f"{low:+.4g} to {high:+.4g}" in fe.sentence()
    threshold = fits["threshold"].summary().iloc[0]
    assert f"{threshold['estimate'] * 100:+.1f} percentage points" in fits["threshold"].sentence()
    assert f"{fits['revenue'].lift['estimate']:+.1%}" in fits["revenue"].sentence()
    chain = fits["chain"]
    assert f"{chain.estimate:,.0f} a year" in chain.sentence() and chain.headline()["annual_lift"] == chain.estimate
