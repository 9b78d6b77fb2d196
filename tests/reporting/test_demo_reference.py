"""The demo's headline numbers equal those of the code before the model families were restructured (commit ea9ad33).

Reference: `reference/demo_headline.json`, made by `reference/make_demo_headline.sh`. The fast test runs the
fixed-effects steps of the demo; the slow one runs the whole demo, the Bayesian model included.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pytest

from bstate_stats.reporting.config import load_config
from bstate_stats.reporting.run import run_analysis

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((Path(__file__).parent / "reference" / "demo_headline.json").read_text())
BAYESIAN = {"converged", "convergence_message", "credible_level", "prob_now", "prob_after_change"} | {k for k in REFERENCE if k.startswith(("bayes_", "required_", "revenue_lift_")) and k != "revenue_lift_pct"}


def demo_config(*, bayesian: bool):
    config = load_config(ROOT / "analyses" / "case_study.toml")
    kinds = [e for e in config.analysis if bayesian or e.kind != "hierarchical"]
    return dataclasses.replace(config, analysis=tuple(kinds), hierarchical=dataclasses.replace(config.hierarchical, enabled=bayesian))


def assert_same(headline: dict, keys: set[str]) -> None:
    for key in sorted(keys):
        expected = REFERENCE[key]
        assert headline[key] == (pytest.approx(expected, rel=1e-10) if isinstance(expected, float) else expected), key


def test_fixed_effects_headline_is_unchanged(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_analysis(demo_config(bayesian=False), tmp_path / "run", progress=lambda _: None)
    assert_same(outcome.headline, set(REFERENCE) - BAYESIAN)


@pytest.mark.slow
def test_whole_demo_headline_is_unchanged(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_analysis(demo_config(bayesian=True), tmp_path / "run", progress=lambda _: None)
    assert_same(outcome.headline, set(REFERENCE))
