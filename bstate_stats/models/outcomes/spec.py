"""What one outcome of :func:`~bstate_stats.models.outcomes.outcome_effects` is: its model family, exposure, target, direction and unit value.

A count declared in the schema as counted out of another column (customers lost
of customers served) is a rate: Poisson with that exposure. A cost is a positive
skewed amount: least squares on its log. Everything else is linear in its own units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bstate_stats.errors import ColumnError, SpecificationError
from bstate_stats.models.fixed_effects.spec import Family
from bstate_stats.models.hierarchical.families import Direction
from bstate_stats.panel.panel import Panel
from bstate_stats.schema.words import Words, declared_column, rate_words, words_for

BOUNDED_SCALES = ("score_0_10", "likert_1_5", "percent_0_100")


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome: how it is modelled and what it is worth.

    Attributes
    ----------
    column
        The outcome column (a count for rates: ``customers_lost``).
    family
        ``"poisson"`` (a count, with ``exposure``: a rate), ``"log"`` (a cost) or ``"linear"``.
    exposure
        What a count is out of (``customers``); None otherwise.
    target, direction
        The level to meet (0.05 churn) and on which side (``"at_most"``); None: no target.
    unit_value
        Money per unit of the outcome: per customer kept, per leaver avoided (replacement cost), per absence day,
        1 for a cost (already money), per point for a linear outcome; None: no money stated.
    volume
        For a cost per contact: the column counting the contacts (the yearly total cost is cost x contacts).
    """

    column: str
    family: Family = "linear"
    exposure: str | None = None
    target: float | None = None
    direction: Direction = "at_most"
    unit_value: float | None = None
    volume: str | None = None

    def __post_init__(self) -> None:
        if self.family not in ("linear", "poisson", "log"):
            raise SpecificationError(f"{self.column}: family={self.family!r}; choose 'linear', 'poisson' or 'log'")
        if self.direction not in ("at_least", "at_most"):
            raise SpecificationError(f"{self.column}: direction={self.direction!r}; choose 'at_least' or 'at_most'")
        if self.exposure and self.family != "poisson":
            raise SpecificationError(f"{self.column}: an exposure ({self.exposure}) is for a count modelled as a rate (family 'poisson')")
        if self.unit_value is not None and not (np.isfinite(self.unit_value) and self.unit_value >= 0):
            raise SpecificationError(f"{self.column}: unit_value={self.unit_value!r}; money per unit is a finite amount, 0 or more")

    def words(self, scale: str) -> Words:
        """How sentences name the outcome's level: the rate ("churn") for a count with an exposure, the column's words otherwise."""
        return rate_words(self.column) if self.exposure else words_for(self.column, scale)

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "at_most"


def outcome_spec(panel: Panel, column: str, **settings: Any) -> OutcomeSpec:
    """The spec of ``column`` from the schema's declarations, with any setting given.

    A count the schema declares as counted out of another column is Poisson with that exposure (a rate; a
    bare count when the exposure column is absent); a currency column or a cost is logged and valued at 1;
    anything else is linear.

    Parameters
    ----------
    panel
        The panel that holds the column.
    column
        The outcome column.
    **settings
        Fields of :class:`OutcomeSpec` (``target``, ``direction``, ``unit_value``, ``volume``, ``family``, ``exposure``).

    Returns
    -------
    OutcomeSpec
    """
    if column not in panel.data.columns:
        raise ColumnError(f"outcome {column!r} is not a column of the panel")
    unknown = set(settings) - {"family", "exposure", "target", "direction", "unit_value", "volume"}
    if unknown:
        raise SpecificationError(f"{column}: unknown outcome setting(s) {sorted(unknown)}")
    declared = declared_column(column)
    spec = OutcomeSpec(column)
    if declared is not None and declared.of:  # a count out of an exposure: its rate, or the bare count when the exposure is not in the data
        spec = replace(spec, family="poisson", exposure=declared.of if declared.of in panel.data.columns else None)
    elif panel.scales.get(column) == "currency" or panel.roles.get(column) == "cost":
        spec = replace(spec, family="log", unit_value=1.0 if panel.scales.get(column) == "currency" else None)  # a cost is money already
    if settings.get("family") not in (None, "poisson"):
        spec = replace(spec, exposure=None)  # a declared exposure is for the rate model the user chose not to fit
    spec = replace(spec, **{k: v for k, v in settings.items() if v is not None})
    for name in (spec.exposure, spec.volume):
        if name is not None and name not in panel.data.columns:
            raise ColumnError(f"{column}: column {name!r} is not in the panel")
    return spec
