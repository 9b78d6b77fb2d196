"""Fixed-effects family: specification, engines (pyfixest, linearmodels), estimation, results, specification tests, comparison tables.

Imports run one way inside the family: spec -> results -> engines -> estimate -> specification, compare.
"""

from bstate_stats.models.fixed_effects.compare import ComparisonTable, compare
from bstate_stats.models.fixed_effects.estimate import fixed_effects
from bstate_stats.models.fixed_effects.results import FixedEffectsResults
from bstate_stats.models.fixed_effects.spec import Cluster, Effects, Estimator, FixedEffectsSpec, SmallSample
from bstate_stats.models.fixed_effects.specification import SpecificationTest, hausman, mundlak, team_effects_f_test

__all__ = [
    "Cluster",
    "ComparisonTable",
    "Effects",
    "Estimator",
    "FixedEffectsResults",
    "FixedEffectsSpec",
    "SmallSample",
    "SpecificationTest",
    "compare",
    "fixed_effects",
    "hausman",
    "mundlak",
    "team_effects_f_test",
]
