"""Derived measures: habit and relationship indices, reliability, share of habits improved.

All indices are on a 0-100 scale so that "+10 habit points" means the same
whatever scale the items were collected on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bstate_stats.schema.spec import SCALES

MIN_ITEM_SHARE = 0.5
HABIT_INDEX = "habit_index"
RELATIONSHIP_INDEX = "relationship_index"


def to_percent(values: pd.Series | pd.DataFrame, scale: str):
    """Rescale values of a bounded scale linearly onto 0-100 (Likert 1-5: 1 -> 0, 5 -> 100)."""
    bounds = SCALES[scale]
    if bounds.low is None or bounds.high is None:
        raise ValueError(f"scale {scale!r} is unbounded and cannot be put on 0-100")
    return (values - bounds.low) / (bounds.high - bounds.low) * 100.0


def item_index(items: pd.DataFrame, scales: dict[str, str], *, min_share: float = MIN_ITEM_SHARE) -> pd.Series:
    """Mean of the items after rescaling each to 0-100.

    A row gets an index when at least ``min_share`` of its items are present
    (the mean of the present items); otherwise the index is missing and models
    that use it count the row in their ledger.
    """
    if items.shape[1] == 0:
        return pd.Series(np.nan, index=items.index)
    return pd.Series(mean_of_present(percent_items(items, scales), min_share=min_share), index=items.index, copy=False)


def mean_of_present(columns: dict[str, np.ndarray], *, min_share: float = MIN_ITEM_SHARE) -> np.ndarray:
    """Row means of the present values of equal-length columns; NaN where fewer than ``min_share`` of them are present.

    Parameters
    ----------
    columns
        Item columns on one scale, e.g. from :func:`percent_items`.
    min_share
        The share of columns a row needs for a mean.

    Returns
    -------
    numpy.ndarray
    """
    values = list(columns.values())
    total, counts = np.zeros(len(values[0])), np.zeros(len(values[0]))
    for column in values:
        present = ~np.isnan(column)
        np.add(total, column, out=total, where=present)
        counts += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts / len(values) >= min_share, total / counts, np.nan)


def percent_items(items: pd.DataFrame, scales: dict[str, str]) -> dict[str, np.ndarray]:
    """Every item column rescaled onto 0-100 (see :func:`to_percent`), column by column (no copy of the whole table)."""
    return {c: to_percent(_floats(items[c]), scales[c]) for c in items.columns}


def _floats(column: pd.Series) -> np.ndarray:
    """A column as floats with NaN for missing (no copy when it already is one)."""
    return column.to_numpy() if column.dtype == np.float64 else column.to_numpy(dtype=float, na_value=np.nan)


def cronbach_alpha(items: pd.DataFrame | dict[str, np.ndarray]) -> float:
    """Cronbach's alpha of a set of items, on rows where every item is present.

    ``alpha = k / (k - 1) * (1 - sum(var(item)) / var(sum of items))`` with
    sample variances (ddof = 1). Returns NaN with fewer than two items or rows.

    Parameters
    ----------
    items
        Item columns: a frame, or arrays by name as :func:`percent_items` returns.

    Returns
    -------
    float
    """
    columns = [np.asarray(items[c], dtype=float) for c in items]
    k = len(columns)
    if k < 2:
        return float("nan")
    complete = np.logical_and.reduce([~np.isnan(c) for c in columns])
    if complete.sum() < 2:
        return float("nan")
    if not complete.all():
        columns = [c[complete] for c in columns]
    item_variance = sum(np.var(c, ddof=1) for c in columns)
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    total_variance = np.var(total, ddof=1)
    if total_variance == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - item_variance / total_variance))


def share_improved(items: pd.DataFrame, *, baseline: int | None = None, compare: int | None = None, min_change: float = 0.0) -> pd.DataFrame:
    """Per team, the share of items higher in the compared period than in the baseline period.

    Parameters
    ----------
    items
        Item scores indexed by (team, t) with t the period ordinal.
    baseline, compare
        Period ordinals; default each team's first and last observed period.
    min_change
        An item counts as improved when it rose by more than this.

    Returns
    -------
    DataFrame
        Indexed by team: ``baseline_t, compare_t, n_items, n_improved, share_improved``.
        Items missing in either period are not compared (``n_items`` counts the compared ones).
    """
    records = []
    for team, block in items.groupby(level=0, sort=True):
        block = block.droplevel(0).sort_index()
        t0 = block.index.min() if baseline is None else baseline
        t1 = block.index.max() if compare is None else compare
        if t0 not in block.index or t1 not in block.index or t0 == t1:
            records.append({"team": team, "baseline_t": t0, "compare_t": t1, "n_items": 0, "n_improved": 0})
            continue
        change = block.loc[t1] - block.loc[t0]
        compared = change.dropna()
        records.append(
            {"team": team, "baseline_t": t0, "compare_t": t1, "n_items": len(compared), "n_improved": int((compared > min_change).sum())}
        )
    out = pd.DataFrame.from_records(records).set_index("team")
    out["share_improved"] = out["n_improved"] / out["n_items"].where(out["n_items"] > 0)
    return out
