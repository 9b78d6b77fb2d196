"""The demo's headline numbers against those of the code before the model families were restructured (commit ea9ad33).

Reference: `reference/demo_headline.json`, made by `reference/make_demo_headline.sh`. The fast test runs the
fixed-effects steps of the demo: their numbers are identical. The slow one runs the whole demo: the Bayesian
engine was rebuilt since (issue 12: separate revenue model, priors in outcome units, fixed region intercepts
with 4 regions, labelled estimands), so its answers must agree with the old engine's within their posterior
uncertainty, not to the digit.
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


REFERENCE_STEPS = {"describe", "fixed_effects", "threshold", "revenue"}  # the steps behind the reference's non-Bayesian numbers


def demo_config(*, bayesian: bool):
    """The demo's configuration; without ``bayesian``, only the steps whose numbers the reference holds.

    The later steps (outcomes, with its binomial model, among them) are younger than the reference and would only cost time.
    """
    config = load_config(ROOT / "analyses" / "case_study.toml")
    kinds = [e for e in config.analysis if bayesian or e.kind in REFERENCE_STEPS]
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


def _posterior_sd(low: float, high: float, probability: float = 0.9) -> float:
    """Rough posterior sd from a central interval of the given probability (Normal approximation)."""
    from scipy import stats

    return (high - low) / (2 * stats.norm.ppf(0.5 + probability / 2))


@pytest.mark.slow
def test_whole_demo_agrees_with_the_old_engine(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = run_analysis(demo_config(bayesian=True), tmp_path / "run", progress=lambda _: None)
    h = outcome.headline
    assert_same(h, set(REFERENCE) - BAYESIAN)
    assert h["converged"] and h["revenue_converged"]
    for key in ("bayes_effect", "revenue_lift_mean"):
        root = key.replace("_mean", "")
        sd = _posterior_sd(REFERENCE[f"{root}_low"], REFERENCE[f"{root}_high"])
        assert abs(h[key] - REFERENCE[key]) < sd, key
    # the change a typical team needs: the old engine's typical team had its effects at zero, the new one draws them
    assert REFERENCE["required_low"] < h["required_change"] < REFERENCE["required_high"] + _posterior_sd(REFERENCE["required_low"], REFERENCE["required_high"])
