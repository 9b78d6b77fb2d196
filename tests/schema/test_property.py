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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scores=st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 12)), min_size=1, max_size=10),
    counts=st.lists(st.one_of(st.none(), st.floats(-1, 30), st.integers(-1, 30)), min_size=1, max_size=10),
    keys=st.lists(st.tuples(st.sampled_from(["A", "B", None]), st.one_of(st.none(), st.integers(1, 3))), min_size=1, max_size=10),
)
def test_the_screen_is_never_laxer_than_pandera(scores, counts, keys):
    """The vectorised screen that lets a table skip pandera passes only tables pandera passes too."""
    from bstate_stats.schema.spec import ColumnSpec
    from bstate_stats.schema.table_rules import _pandera_schema, _passes_screen, key_text

    n = min(len(scores), len(counts), len(keys))
    frame = pd.DataFrame(
        {
            "team": key_text(pd.Series([k[0] for k in keys[:n]], dtype=object)),
            "period": pd.array([k[1] for k in keys[:n]], dtype="Int64"),
            "csat": pd.Series(scores[:n], dtype=float),
            "n_respondents": pd.Series(counts[:n], dtype=float),
        }
    )
    specs = {
        "team": ColumnSpec("team", "team", "id", True),
        "period": ColumnSpec("period", "period", "period", True),
        "csat": ColumnSpec("csat", "outcome", "score_0_10", True),
        "n_respondents": ColumnSpec("n_respondents", "respondents", "count", True),
    }
    if _passes_screen(frame, specs, ("team", "period")):
        _pandera_schema(specs, ("team", "period")).validate(frame, lazy=True)  # raises SchemaErrors if pandera disagrees
