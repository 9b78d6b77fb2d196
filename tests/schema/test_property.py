"""Property: any frame yields a Panel or a ValidationError, never another exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

import bstate_stats as bs

cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 2030),
    st.sampled_from(["n/a", "7,5", "", "2024-01", "2024Q2", "x", "North", "8.5", "-1"]),
)
teams = st.sampled_from(["A", "B", "C", None, "", 1])
periods = st.one_of(st.sampled_from(["2024-01", "2024-02", "2024-03", "2024Q1", "bad", None]), st.integers(1, 4))

frames = data_frames(
    columns=[
        column("team", elements=teams),
        column("region", elements=st.sampled_from(["North", "South", None])),
        column("period", elements=periods),
        column("csat", elements=cells),
        column("revenue", elements=cells),
    ],
    index=range_indexes(min_size=0, max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames, st.sets(st.sampled_from(["team", "region", "period", "csat", "revenue"]), max_size=2))
def test_panel_or_validation_error(frame: pd.DataFrame, dropped: set[str]):
    frame = frame.drop(columns=list(dropped)).astype(object)
    try:
        panel = bs.Panel.from_frames(frame)
    except bs.ValidationError as exc:
        assert not exc.report.ok
    else:
        assert isinstance(panel, bs.Panel)
        assert np.isfinite(panel.data["csat"].dropna()).all()
        assert panel.data["csat"].dropna().between(0, 10).all()


@settings(max_examples=60, deadline=None)
@given(data_frames(columns=[column("f", elements=st.sampled_from(["a", "b"])), column("y", elements=st.sampled_from([1, 2, 3])), column("v", elements=cells)], index=range_indexes(0, 8)))
def test_generic_panel_or_validation_error(frame: pd.DataFrame):
    try:
        bs.Panel.from_frame(frame.astype(object), team="f", period="y", outcomes=["v"])
    except bs.ValidationError as exc:
        assert not exc.report.ok
