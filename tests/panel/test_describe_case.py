"""The case's descriptive numbers (satisfaction items against the threshold, employees seeing improvement), recomputed from the CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bstate_stats as bs

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example"


@pytest.fixture(scope="module")
def description():
    return bs.load_panel(EXAMPLE).describe(outcome="csat", threshold=8.0)


def test_every_satisfaction_item_against_the_threshold(description):
    raw = pd.read_csv(EXAMPLE / "deliverables.csv")
    last, first = raw[raw["period"] == raw["period"].max()], raw[raw["period"] == raw["period"].min()]
    items = description.items.set_index("item")
    assert list(items.index) == ["csat", *[c for c in raw.columns if c.startswith("csat_")]]
    for item in items.index:
        by_region = last.groupby("region")[item].mean()
        row = items.loc[item]
        assert row["mean_last"] == pytest.approx(last[item].mean()) and row["mean_first"] == pytest.approx(first[item].mean())
        assert row["share_teams_above"] == pytest.approx((last[item] >= 8.0).mean())
        assert (row["best_region"], row["best_region_mean"]) == (by_region.idxmax(), pytest.approx(by_region.max()))
        assert row["n_regions_above"] == (by_region >= 8.0).sum()
        region_rows = description.items_by_region.query("item == @item").set_index("region")
        assert region_rows["at_or_above"].to_dict() == (by_region >= 8.0).to_dict()


def test_share_of_employees_improving_is_weighted_by_respondents(description):
    relationships = pd.read_csv(EXAMPLE / "relationships.csv").merge(pd.read_csv(EXAMPLE / "deliverables.csv")[["team", "period", "region"]], on=["team", "period"])
    relationships["improved"] = relationships["share_improved"] * relationships["n_respondents"]
    expected = relationships.groupby(["region", "period"])[["improved", "n_respondents"]].sum()
    table = description.employees_improved.astype({"period": str})
    regions = table[table["level"] == "region"].set_index(["region", "period"])
    np.testing.assert_allclose(regions["share_improved"], (expected["improved"] / expected["n_respondents"]).loc[regions.index], rtol=1e-12)
    organisation = table[table["level"] == "organisation"].set_index("period")["share_improved"]
    whole = relationships.groupby("period")[["improved", "n_respondents"]].sum()
    np.testing.assert_allclose(organisation, (whole["improved"] / whole["n_respondents"]).loc[organisation.index], rtol=1e-12)
    assert list(organisation.index) == sorted(organisation.index)  # periods in order


def test_no_improvement_column_no_table():
    study = bs.simulate.case_study(seed=2, n_regions=2, teams_per_region=2, n_periods=4)
    tables = {name: frame.drop(columns=["share_improved"], errors="ignore") for name, frame in study.tables.items()}
    panel = bs.Panel.from_frames(**tables)
    assert panel.describe(outcome="csat").employees_improved.empty


def test_an_item_column_without_values_is_left_out():
    study = bs.simulate.case_study(seed=2, n_regions=2, teams_per_region=2, n_periods=4)
    tables = dict(study.tables)
    tables["deliverables"] = tables["deliverables"].assign(csat_empty=np.nan)
    items = bs.Panel.from_frames(**tables).describe(outcome="csat").items
    assert "csat_empty" not in set(items["item"]) and "csat" in set(items["item"])


def test_items_count_the_teams_they_score(description):
    raw = pd.read_csv(EXAMPLE / "deliverables.csv")
    last = raw[raw["period"] == raw["period"].max()]
    items = description.items.set_index("item")
    for item in items.index:
        assert items.loc[item, "n_teams_last"] == last.dropna(subset=[item])["team"].nunique()
