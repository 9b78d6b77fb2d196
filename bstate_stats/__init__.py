"""bstate_stats: link the collective habits of teams to satisfaction and revenue.

Data flow: schema -> panel -> models -> results -> reports.

>>> import bstate_stats as bs
>>> study = bs.simulate.case_study(seed=7)
>>> panel = bs.Panel.from_frames(*study.tables.values())
"""

from importlib.metadata import PackageNotFoundError, version

from bstate_stats import simulate
from bstate_stats.errors import (
    BStateError,
    BStateWarning,
    ColumnError,
    ConfigError,
    EstimationWarning,
    OutputError,
    RenamedWarning,
    RunFolderError,
    RunLockedError,
    SpecificationError,
    ValidationError,
)
from bstate_stats.models.fixed_effects import (
    ComparisonTable,
    FixedEffectsResults,
    FixedEffectsSpec,
    SpecificationTest,
    compare,
    fixed_effects,
    hausman,
    mundlak,
    team_effects_f_test,
)
from bstate_stats.models.hierarchical import CalibrationResults, HierarchicalResults, HierarchicalSpec, Priors, calibrate, hierarchical, prior_predictive_check
from bstate_stats.models.revenue import BayesianRevenueLift, HabitRevenueChain, RevenueResults, bayesian_revenue, bayesian_revenue_lift, habit_to_revenue, revenue_model
from bstate_stats.models.threshold import ThresholdResults, threshold_model
from bstate_stats.panel.ledger import ExclusionLedger
from bstate_stats.panel.load import load_panel, validate
from bstate_stats.panel.panel import ModelFrame, Panel
from bstate_stats.schema.mapping import ColumnMapping
from bstate_stats.schema.report import ValidationIssue, ValidationReport

try:
    __version__ = version("bstate_stats")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

__all__ = [
    "BStateError",
    "BayesianRevenueLift",
    "CalibrationResults",
    "ColumnError",
    "ColumnMapping",
    "ComparisonTable",
    "ConfigError",
    "BStateWarning",
    "EstimationWarning",
    "ExclusionLedger",
    "FixedEffectsResults",
    "FixedEffectsSpec",
    "HabitRevenueChain",
    "HierarchicalResults",
    "HierarchicalSpec",
    "Priors",
    "RenamedWarning",
    "RevenueResults",
    "SpecificationTest",
    "ThresholdResults",
    "bayesian_revenue",
    "bayesian_revenue_lift",
    "calibrate",
    "compare",
    "fixed_effects",
    "habit_to_revenue",
    "hausman",
    "hierarchical",
    "prior_predictive_check",
    "mundlak",
    "revenue_model",
    "team_effects_f_test",
    "threshold_model",
    "ModelFrame",
    "OutputError",
    "Panel",
    "RunFolderError",
    "RunLockedError",
    "SpecificationError",
    "ValidationError",
    "ValidationIssue",
    "ValidationReport",
    "load_panel",
    "simulate",
    "validate",
]
