"""bstate_stats: link the collective habits of teams to satisfaction and revenue.

Data flow: schema -> panel -> models -> results -> reports.

>>> import bstate_stats as bs
>>> study = bs.simulate.case_study(seed=7)
>>> panel = bs.Panel.from_frames(*study.tables.values())
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

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

# Public names and the module each lives in, imported on first use (PEP 562): `bstate-stats --help` and
# `validate` do not pay for PyMC, pyfixest or matplotlib.
_LAZY = {
    **dict.fromkeys(["CorrelationResults", "within_team_correlations"], "bstate_stats.models.correlations"),
    **dict.fromkeys(["ImportanceMatrix", "MetricsResults", "RelativeImportanceResults", "importance_matrix", "metrics_and_outcomes", "relative_importance"], "bstate_stats.models.importance"),
    **dict.fromkeys(
        ["ComparisonTable", "FixedEffectsResults", "FixedEffectsSpec", "SpecificationTest", "compare", "fixed_effects", "hausman", "mundlak", "team_effects_f_test"],
        "bstate_stats.models.fixed_effects",
    ),
    **dict.fromkeys(["CalibrationResults", "HierarchicalResults", "HierarchicalSpec", "Priors", "calibrate", "hierarchical", "prior_predictive_check"], "bstate_stats.models.hierarchical"),
    **dict.fromkeys(["OutcomeEffectsResults", "OutcomeSpec", "outcome_effects"], "bstate_stats.models.outcomes"),
    **dict.fromkeys(["BayesianRevenueLift", "HabitRevenueChain", "RevenueResults", "bayesian_revenue", "bayesian_revenue_lift", "habit_to_revenue", "revenue_model"], "bstate_stats.models.revenue"),
    **dict.fromkeys(["ThresholdResults", "threshold_model"], "bstate_stats.models.threshold"),
    "ExclusionLedger": "bstate_stats.panel.ledger",
    **dict.fromkeys(["load_panel", "validate"], "bstate_stats.panel.load"),
    **dict.fromkeys(["ModelFrame", "Panel"], "bstate_stats.panel.panel"),
    "ColumnMapping": "bstate_stats.schema.mapping",
    **dict.fromkeys(["ValidationIssue", "ValidationReport"], "bstate_stats.schema.report"),
}
_SUBMODULES = {"simulate": "bstate_stats.simulate"}

if TYPE_CHECKING:  # the same names for type checkers and editors
    from bstate_stats import simulate
    from bstate_stats.models.correlations import CorrelationResults, within_team_correlations
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
    from bstate_stats.models.importance import ImportanceMatrix, MetricsResults, RelativeImportanceResults, importance_matrix, metrics_and_outcomes, relative_importance
    from bstate_stats.models.outcomes import OutcomeEffectsResults, OutcomeSpec, outcome_effects
    from bstate_stats.models.revenue import BayesianRevenueLift, HabitRevenueChain, RevenueResults, bayesian_revenue, bayesian_revenue_lift, habit_to_revenue, revenue_model
    from bstate_stats.models.threshold import ThresholdResults, threshold_model
    from bstate_stats.panel.ledger import ExclusionLedger
    from bstate_stats.panel.load import load_panel, validate
    from bstate_stats.panel.panel import ModelFrame, Panel
    from bstate_stats.schema.mapping import ColumnMapping
    from bstate_stats.schema.report import ValidationIssue, ValidationReport


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is used, and keep the name here."""
    if name in _SUBMODULES:
        value = import_module(_SUBMODULES[name])
    elif name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'bstate_stats' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


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
    "CorrelationResults",
    "BStateWarning",
    "EstimationWarning",
    "ExclusionLedger",
    "FixedEffectsResults",
    "FixedEffectsSpec",
    "HabitRevenueChain",
    "HierarchicalResults",
    "HierarchicalSpec",
    "Priors",
    "ImportanceMatrix",
    "MetricsResults",
    "OutcomeEffectsResults",
    "OutcomeSpec",
    "RelativeImportanceResults",
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
    "importance_matrix",
    "metrics_and_outcomes",
    "mundlak",
    "outcome_effects",
    "relative_importance",
    "revenue_model",
    "team_effects_f_test",
    "threshold_model",
    "within_team_correlations",
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
