"""How sentences name an outcome and its changes, from the schema: its label, and the unit its scale implies.

Every sentence, label and headline that states an effect takes its words from
here, so a run on first-contact resolution reads "+6.6 percentage points of
first-contact resolution", never "satisfaction points".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from bstate_stats.schema.spec import ColumnSpec, SchemaDefinitionError, load_schemas

SHARES = ("proportion_0_1", "percent_0_100")


@dataclass(frozen=True)
class Words:
    """The words for one outcome column.

    Attributes
    ----------
    column
        The column's name in the panel.
    noun
        How sentences name it ("satisfaction", "first-contact resolution").
    scale
        Its scale (``score_0_10``, ``proportion_0_1``, ...).
    unit
        What one unit is, for numeric columns ("seconds"); empty otherwise.
    """

    column: str
    noun: str
    scale: str
    unit: str = ""

    @property
    def factor(self) -> float:
        """What a change is multiplied by to be stated in its unit (100 for shares stated in percentage points)."""
        return 100.0 if self.scale == "proportion_0_1" else 1.0

    @property
    def unit_name(self) -> str:
        """The unit changes are stated in: "percentage points", "points", the column's unit, or "" (a count or bare number)."""
        if self.scale in SHARES:
            return "percentage points"
        if self.scale in ("score_0_10", "likert_1_5"):
            return "points"
        return "currency" if self.scale == "currency" else self.unit

    def number(self, value: float, digits: int | None = None) -> str:
        """A signed change as a bare number in the outcome's unit (interval ends: "+0.93", "+6.6" for a share's +0.066; one decimal for percentage points, two otherwise)."""
        places = (1 if self.scale in SHARES else 2) if digits is None else digits
        return f"{value * self.factor:+.{places}f}"

    def amount(self, value: float, digits: int | None = None) -> str:
        """A signed change in the outcome's unit.

        Parameters
        ----------
        value
            The change, on the column's own scale (0.066 for a share).
        digits
            Decimals shown (default: one for percentage points, two otherwise).

        Returns
        -------
        str
            "+1.04 satisfaction points", "+6.6 percentage points of first-contact resolution", "-12.00 seconds of handle time".
        """
        number = self.number(value, digits)
        if self.scale in SHARES:
            return f"{number} percentage points of {self.noun}"
        if self.scale in ("score_0_10", "likert_1_5"):
            return f"{number} {self.noun} points"
        if self.scale == "currency":
            return f"{number} of {self.noun}" + (f" {self.unit}" if self.unit else "")
        if self.unit:
            return f"{number} {self.unit} of {self.noun}"
        return f"{number} {self.noun}"

    def level(self, value: float) -> str:
        """A level of the outcome as people state it: "8", "6.42", "80%" or "4.7%" (a 0-1 share), "80%" (a 0-100 percentage)."""
        if self.scale == "proportion_0_1":
            return f"{_trimmed(value * 100, 1)}%"
        if self.scale == "percent_0_100":
            return f"{_trimmed(value, 1)}%"
        return _trimmed(value, 2)

    def to_dict(self) -> dict[str, str]:
        """For a run's headline (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Words:
        """Rebuild from a headline; a run written before outcomes had words was about satisfaction (``csat``)."""
        return cls(**values) if values else words_for("csat", "score_0_10")


def _trimmed(value: float, places: int) -> str:
    """``value`` with at most ``places`` decimals, trailing zeros dropped: 8.0 -> "8", 6.4187 -> "6.42", 1234.5 -> "1,234.5"."""
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@cache
def _declared() -> dict[str, ColumnSpec]:
    """Every column the packaged schemas name."""
    try:
        schemas = load_schemas()
    except SchemaDefinitionError:  # pragma: no cover - a broken install; words fall back to column names
        return {}
    return {c.name: c for schema in schemas.values() for c in schema.columns}


def declared_column(column: str) -> ColumnSpec | None:
    """The packaged schema's declaration of ``column`` (label, unit, what a count is out of), or None.

    Parameters
    ----------
    column
        Canonical column name.

    Returns
    -------
    ColumnSpec or None
    """
    return _declared().get(column)


def rate_words(count: str) -> Words:
    """The words for the rate of a count out of its exposure: customers lost of customers served is "churn", a 0-1 share.

    Parameters
    ----------
    count
        A count column.

    Returns
    -------
    Words
    """
    spec = declared_column(count)
    noun = (spec.rate_label if spec else "") or f"{count.replace('_', ' ')} rate"
    return Words(count, noun, "proportion_0_1")


def words_for(column: str, scale: str) -> Words:
    """The words for ``column`` on ``scale``: the schema's label and unit when it declares the column, the column's name otherwise.

    Parameters
    ----------
    column
        Column name in the panel (canonical, after any mapping).
    scale
        Its scale in this panel (a mapping may override the schema's).

    Returns
    -------
    Words
    """
    spec = declared_column(column)
    label, unit = (spec.label, spec.unit) if spec else ("", "")
    return Words(column, label or column.replace("_", " "), scale, unit)
