"""Period labels: integers, years, months, quarters, weeks or dates, on one regular grid.

Every period is mapped to an integer *ordinal* (pandas ``Period.ordinal`` for
calendar periods, the value itself for integer periods). Lags, gaps and
spacing are computed on ordinals, never by shifting rows.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass
from math import gcd
from typing import Literal

import numpy as np
import pandas as pd

COARSE_TO_FINE = ("Y", "Q", "M", "W", "D")
PERIODS_PER_YEAR = {"Y": 1, "Q": 4, "M": 12, "W": 52, "D": 365}
YEARLY = "Y-DEC"
YEAR_ZERO_ORDINAL = 1970  # a calendar year's Period ordinal counts from 1970
WEEK_SPAN = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")  # how pandas writes a weekly Period: '2024-01-01/2024-01-07'
ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")  # ISO 8601 week: '2024-W01' (Monday to Sunday)
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def canonical_freq(freq: object) -> str:
    """The frequency as :class:`pandas.Period` spells it (``"M"``, ``"Q-DEC"``, ``"Y-DEC"``, ``"W-SUN"``, ``"D"``).

    Period dtypes, offsets and strings of one frequency ("Q", "QE-DEC",
    ``MonthEnd()``) all map to one name, so tables that write the same
    periods differently compare equal.
    """
    return pd.Period("2000-01-01", freq=freq).freqstr  # type: ignore[arg-type]


@dataclass(frozen=True)
class PeriodFormat:
    """How a table's periods are written: integers, or calendar periods of one frequency."""

    kind: Literal["integer", "calendar"]
    freq: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "calendar" and self.freq is not None:
            object.__setattr__(self, "freq", canonical_freq(self.freq))

    def describe(self) -> str:
        return "integer periods" if self.kind == "integer" else f"calendar periods (frequency {self.freq})"

    @property
    def periods_per_year(self) -> int | None:
        """Periods in a year for calendar periods (12 for months); None for integer periods."""
        return PERIODS_PER_YEAR.get(str(self.freq or "")[:1]) if self.kind == "calendar" else None

    def label(self, ordinal: int) -> object:
        """The period label of an ordinal (inverse of the parse)."""
        if self.kind == "integer":
            return int(ordinal)
        return pd.Period(ordinal=int(ordinal), freq=self.freq)


@dataclass(frozen=True)
class ParsedPeriods:
    """Result of parsing one column of period labels."""

    ordinals: pd.Series  # Int64, <NA> where unparseable or missing
    format: PeriodFormat | None
    unparseable: pd.Series  # bool mask: a value was given but could not be read as a period


def _coarsest_injective(stamps: pd.Series) -> str:
    """Coarsest frequency that keeps distinct dates distinct (monthly dates on day 1 -> 'M')."""
    unique = pd.Series(pd.to_datetime(stamps.dropna().unique()))
    for freq in COARSE_TO_FINE:
        if unique.dt.to_period(freq).nunique() == len(unique):
            return freq
    return "D"


def _parse_datetimes(values: pd.Series) -> ParsedPeriods:
    freq = _coarsest_injective(values)
    periods = values.dt.to_period(freq)
    ordinals = pd.Series(periods.array.asi8, index=values.index).where(values.notna()).astype("Int64")
    return ParsedPeriods(ordinals, PeriodFormat("calendar", freq), pd.Series(False, index=values.index))


def _parse_text(values: pd.Series) -> ParsedPeriods:
    """Read text labels with :class:`pandas.Period`; the most common frequency wins.

    Labels of another frequency (a '2024Q1' among months) are unparseable for
    this panel. Daily dates are put on the coarsest frequency that keeps them apart.
    """
    present = values.notna().to_numpy()
    cells = values.astype("string").to_numpy(dtype=object, na_value=None)  # mostly distinct labels: a loop beats pandas' per-call cost
    text = [None if cell is None else cell.strip() for cell in cells]
    parsed: dict[str, pd.Period] = {}
    for label in dict.fromkeys(t for t in text if t is not None):
        try:
            parsed[label] = read_period_label(label)
        except (ValueError, TypeError):
            continue
    if not parsed:
        return ParsedPeriods(pd.Series(pd.NA, index=values.index, dtype="Int64"), None, pd.Series(present, index=values.index))
    counts = Counter(p.freqstr for p in parsed.values())
    freq = min(counts, key=lambda f: (-counts[f], f))  # the most common frequency; of a tie, the first in alphabetical order
    parsed = {k: p for k, p in parsed.items() if p.freqstr == freq}
    if freq == "D":
        freq = _coarsest_injective(pd.Series([p.to_timestamp() for p in parsed.values()]))
        parsed = {k: p.to_timestamp().to_period(freq) for k, p in parsed.items()}
    lookup = {k: p.ordinal for k, p in parsed.items()}
    ordinals = pd.Series(pd.array([None if t is None else lookup.get(t) for t in text], dtype="Int64"), index=values.index)
    return ParsedPeriods(ordinals, PeriodFormat("calendar", parsed[next(iter(parsed))].freqstr), pd.Series(present, index=values.index) & ordinals.isna())


def read_period_label(label: str) -> pd.Period:
    """One text label as a :class:`pandas.Period`, weeks included.

    pandas reads '2024-01', '2024Q1', '2024' and dates, but reads its own
    weekly labels ('2024-01-01/2024-01-07') as a minute of the first day and
    does not read ISO weeks ('2024-W01'); both are read here as weeks ending on
    the label's last day.

    Parameters
    ----------
    label
        A period label.

    Returns
    -------
    pandas.Period
        The period, weekly ones anchored on the week's last day (``W-SUN`` for ISO weeks).

    Raises
    ------
    ValueError
        The label is not a period (or a span that is not seven days).
    """
    span = WEEK_SPAN.match(label)
    if span:
        start, end = (pd.Timestamp(part) for part in span.groups())
        if (end - start).days != 6:
            raise ValueError(f"{label!r} spans {(end - start).days + 1} days, not a week")
        return pd.Period(end, freq=f"W-{WEEKDAYS[end.day_of_week]}")
    iso = ISO_WEEK.match(label)
    if iso:
        sunday = pd.Timestamp(datetime.date.fromisocalendar(int(iso.group(1)), int(iso.group(2)), 7))
        return pd.Period(sunday, freq="W-SUN")
    return pd.Period(label)


def _as_temporal(values: pd.Series) -> pd.Series:
    """Arrow dates and timestamps, and object columns holding only dates or Periods, as pandas datetime or Period columns."""
    if isinstance(values.dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = values.dtype.pyarrow_dtype
        if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            return pd.Series(pd.to_datetime(values.astype(object)), index=values.index)
        return values.astype(object)
    if values.dtype != object:
        return values
    present = values.dropna()
    if not len(present):
        return values
    if all(isinstance(v, pd.Period) for v in present):
        freqs = {v.freqstr for v in present}
        if len(freqs) == 1:
            return values.astype(pd.PeriodDtype(next(iter(freqs))))
        return values
    if all(isinstance(v, (datetime.date, np.datetime64)) for v in present):
        try:
            return pd.Series(pd.to_datetime(values), index=values.index)
        except (ValueError, TypeError, OverflowError):
            return values
    return values


def parse_periods(values: pd.Series) -> ParsedPeriods:
    """Parse period labels to ordinals.

    Integers (or integer-valued numbers, e.g. years) give integer periods.
    Text is read with :class:`pandas.Period` ('2024-01' monthly, '2024Q1'
    quarterly, '2024-03-15' daily); dates (datetime64, Arrow date and
    timestamp types, Python dates) are put on the coarsest frequency that
    keeps them distinct, and daily Periods likewise; pandas Periods keep
    their frequency. The same months compare equal however they are written;
    calendar years are integer years (2024, "2024" and ``Period("2024")`` agree).
    """
    parsed = _parse_distinct(_as_temporal(values))
    if parsed.format is not None and parsed.format.freq == YEARLY:
        return ParsedPeriods(parsed.ordinals + YEAR_ZERO_ORDINAL, PeriodFormat("integer"), parsed.unparseable)
    return parsed


def _parse_distinct(values: pd.Series) -> ParsedPeriods:
    """Text and number labels parsed once per distinct label, then spread back to the rows."""
    temporal = pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype)
    if temporal or values.dtype == object:  # mixed Python objects: 1 and True hash alike, so parse cell by cell
        return _parse_any(values)
    codes, distinct = pd.factorize(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(distinct))
    parsed = _parse_any(pd.Series(distinct), weights=counts)
    ordinals = pd.Series(parsed.ordinals.array.take(codes, allow_fill=True), index=values.index)
    unparseable = pd.Series(parsed.unparseable.to_numpy(dtype=bool)[codes] & (codes >= 0), index=values.index)
    return ParsedPeriods(ordinals, parsed.format, unparseable)


def _parse_any(values: pd.Series, weights: np.ndarray | None = None) -> ParsedPeriods:
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)  # the wall-clock date in the stored time zone
        return _parse_datetimes(values)
    if isinstance(values.dtype, pd.PeriodDtype):
        freq = canonical_freq(values.dtype.freq)
        if freq == "D":
            return _parse_datetimes(values.dt.to_timestamp())
        ordinals = pd.Series(values.array.asi8, index=values.index).where(values.notna()).astype("Int64")
        return ParsedPeriods(ordinals, PeriodFormat("calendar", freq), pd.Series(False, index=values.index))
    present = values.notna()
    numeric = pd.to_numeric(values, errors="coerce")
    weights = np.ones(len(values)) if weights is None else weights
    if present.any() and np.average(numeric[present].notna(), weights=weights[present.to_numpy()]) >= 0.5:
        whole = numeric.notna() & np.isfinite(numeric.astype(float)) & (numeric == np.round(numeric))
        ordinals = numeric.where(whole).astype("Float64").round().astype("Int64")
        return ParsedPeriods(ordinals, PeriodFormat("integer"), present & ~whole)
    return _parse_text(values)


def grid_step(ordinals: np.ndarray) -> int:
    """Spacing of the period grid: the greatest common divisor of the gaps between distinct periods."""
    unique = np.unique(ordinals)
    if len(unique) < 2:
        return 1
    return int(gcd(*[int(d) for d in np.diff(unique)])) if len(unique) > 2 else int(unique[1] - unique[0])


def label_series(ordinals: pd.Series, fmt: PeriodFormat) -> pd.Series:
    """Period labels of a column of ordinals (each distinct ordinal converted once)."""
    distinct = ordinals.drop_duplicates()
    return ordinals.map(dict(zip(distinct, (fmt.label(t) for t in distinct))))


def label_index(ordinals: np.ndarray, fmt: PeriodFormat) -> pd.Index:
    """Period labels of distinct ordinals as an index: integers, or a :class:`pandas.PeriodIndex` of the format's frequency."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    if fmt.kind == "integer":
        return pd.Index(ordinals)
    return pd.PeriodIndex.from_ordinals(ordinals, freq=fmt.freq)
