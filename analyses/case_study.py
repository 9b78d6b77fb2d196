"""The case study through the Python API: the same steps as `bstate-stats run analyses/case_study.toml`.

    python analyses/case_study.py [DATA_DIR]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import bstate_stats as bs

data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "example"

report = bs.validate(data_dir)
print(report)
report.raise_if_invalid()
panel = bs.load_panel(data_dir)
print(panel)
print(panel.describe().region_ranking)
print(f"share of habit items improved: {panel.habits_improved().attrs['overall_share']:.0%}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", bs.EstimationWarning)
    fe = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], effects="twoway", cluster="team")
    lagged = bs.fixed_effects(panel, "csat", ["habit_index", "relationship_index"], lags={"habit_index": 1})
    importance = bs.relative_importance(panel, "csat", ["habit_index", "relationship_index", "service_level", "handle_time", "fcr"])
    metrics = bs.metrics_and_outcomes(panel, ["csat", "churn"], ["service_level", "handle_time", "fcr"])
print(bs.compare([fe, lagged], names=["same period", "habits at t-1"]).to_markdown())
print(fe.effect("habit_index", change=10))
print(importance.sentence())
print(bs.importance_matrix(importance, panel, {"service_level": 0.8, "fcr": 0.75, "handle_time": (300, "at_most")}).sentence())
print(metrics.sentence())
print(bs.threshold_model(panel, "csat", ["habit_index"], threshold=8.0))
print(bs.revenue_model(panel).lift)
print(bs.habit_to_revenue(panel, habit_change=10, progress=False))

hb = bs.hierarchical(panel, "csat", ["habit_index", "relationship_index"], random_seed=1)
print(hb)
print(hb.required_change(0.8, level="region"))             # every team of the region, on average
print(hb.required_change(0.8, estimand="new_team"))         # a new team at today's average habit level
revenue = bs.bayesian_revenue(panel, random_seed=2)
print(bs.bayesian_revenue_lift(hb, revenue, 10))
