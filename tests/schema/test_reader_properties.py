"""Property: arbitrary tables in every format give a Panel that accounts for every row, or a report naming the problem.

Never another exception, never a row unaccounted for, never a name such as NA lost.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bstate_stats as bs

TEAMS = ["A", "NA", "None", "null", "n/a", "B 1", "ÉQUIPE", "7"]
REGIONS = ["North", "NA", "None", "South"]
PERIODS = ["2024-01", "2024-02", "2024-03", "2024-04"]
TEXT_CELLS = ["", "7.5", "8", "n/a", "NA", "#N/A", "7,5", "inf", "-1", "11", " 6 ", "x"]


@st.composite
def tables(draw):
    """A deliverables table (and sometimes habits) with names that look missing, text cells and duplicate keys."""
    clean = draw(st.booleans())  # half the examples are valid data, so the accounting below is exercised
    if clean:
        keys = draw(st.lists(st.tuples(st.sampled_from(TEAMS), st.sampled_from(PERIODS)), min_size=2, max_size=12, unique=True))
        teams, periods = [k[0] for k in keys], [k[1] for k in keys]
        cells, revenue = st.one_of(st.just(""), st.floats(0, 10).map(lambda v: f"{v:.3f}")), st.sampled_from(["", "1000", "2500.5"])
    else:
        n = draw(st.integers(1, 10))
        teams = draw(st.lists(st.sampled_from(TEAMS), min_size=n, max_size=n))
        periods = draw(st.lists(st.sampled_from(PERIODS), min_size=n, max_size=n))
        cells = st.one_of(st.sampled_from(TEXT_CELLS), st.floats(0, 10).map(lambda v: f"{v:.3f}"))
        revenue = st.sampled_from(["", "1000", "2500.5", "-3", "abc"])
    n = len(teams)
    region_of = {t: draw(st.sampled_from(REGIONS)) for t in sorted(set(teams))}
    deliverables = pd.DataFrame(
        {
            "team": teams,
            "region": [region_of[t] for t in teams],
            "period": periods,
            "csat": draw(st.lists(cells, min_size=n, max_size=n)),
            "revenue": draw(st.lists(revenue, min_size=n, max_size=n)),
        }
    )
    out = {"deliverables": deliverables}
    if draw(st.booleans()):
        m = draw(st.integers(1, 8))
        out["habits"] = pd.DataFrame(
            {
                "team": draw(st.lists(st.sampled_from(TEAMS), min_size=m, max_size=m)),
                "period": draw(st.lists(st.sampled_from(PERIODS), min_size=m, max_size=m)),
                "daily_huddle": draw(st.lists(st.sampled_from(["", "40", "55.5"] if clean else ["", "40", "55.5", "n/a", "101"]), min_size=m, max_size=m)),
                "weekly_review": draw(st.lists(st.sampled_from(["", "10", "90"]), min_size=m, max_size=m)),
            }
        )
    return out


def write(directory: Path, frames: dict[str, pd.DataFrame], fmt: str, numeric: bool) -> None:
    for name, frame in frames.items():
        if numeric:  # typed columns, as a database export writes them: text that is no number becomes empty
            measures = [c for c in frame.columns if c not in ("team", "region", "period")]
            frame = frame.assign(**{c: pd.to_numeric(frame[c].str.strip(), errors="coerce") for c in measures})
        if fmt == "csv":
            frame.to_csv(directory / f"{name}.csv", index=False)
        elif fmt == "parquet":
            frame.to_parquet(directory / f"{name}.parquet", index=False)
        else:
            frame.to_excel(directory / f"{name}.xlsx", index=False)


def expected_keys(frames: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    return {(str(t).strip(), p) for frame in frames.values() for t, p in zip(frame["team"], frame["period"])}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "excel"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frames=tables(), numeric=st.booleans())
def test_tables_in_every_format_give_a_panel_or_a_named_problem(fmt, frames, numeric):
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        directory = Path(tmp)
        write(directory, frames, fmt, numeric)
        report = bs.validate(directory)  # never raises
        try:
            panel = bs.load_panel(directory)
            event("panel built")
        except bs.ValidationError as exc:
            assert not exc.report.ok and not report.ok
            for issue in exc.report.errors:
                assert issue.source and issue.rule and issue.message
            return
    assert report.ok
    keys = {(str(t), str(p)) for t, p in panel.data.index}
    assert keys == expected_keys(frames)  # every (team, period) kept; NA, None, null are names
    given_csat = frames["deliverables"]["csat"].str.strip().replace("", np.nan).dropna()
    if not numeric:
        assert panel.data["csat"].notna().sum() == len(given_csat)  # no cell silently turned missing
    assert panel.data["csat"].dropna().between(0, 10).all()
    assert set(panel.regions) <= set(REGIONS)
