"""bstate_stats: link the collective habits of teams to satisfaction and revenue.

Data flow: schema -> panel -> models -> results -> reports.

>>> import bstate_stats as bs
>>> study = bs.simulate.case_study(seed=7)
>>> panel = bs.Panel.from_frames(*study.tables.values())
"""

from importlib.metadata import PackageNotFoundError, version

from bstate_stats import simulate
from bstate_stats.errors import BStateError, ConfigError, SpecificationError, ValidationError
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.load import load_panel, validate
from bstate_stats.panel.mapping import ColumnMapping
from bstate_stats.panel.panel import ModelFrame, Panel
from bstate_stats.schema.report import ValidationIssue, ValidationReport

try:
    __version__ = version("bstate_stats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = [
    "BStateError",
    "ColumnMapping",
    "ConfigError",
    "ExclusionLedger",
    "ModelFrame",
    "Panel",
    "SpecificationError",
    "ValidationError",
    "ValidationIssue",
    "ValidationReport",
    "load_panel",
    "simulate",
    "validate",
]
