"""Names changed so that one word means one thing: the old keywords and config keys still work, with a RenamedWarning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bstate_stats as bs
from bstate_stats.reporting.config import config_from_dict


@pytest.fixture(scope="module")
def panel():
    return bs.simulate.case_study(seed=3, n_regions=2, teams_per_region=6, n_periods=8).panel()


def test_old_confidence_keyword_gives_the_same_interval_with_a_warning(panel):
    new = bs.fixed_effects(panel, "csat", ["habit_index"], confidence_level=0.9, bootstrap_reps=0)
    with pytest.warns(bs.RenamedWarning, match=r"level=\.\.\.\) is now confidence_level"):
        old = bs.fixed_effects(panel, "csat", ["habit_index"], level=0.9, bootstrap_reps=0)
    np.testing.assert_allclose(old.conf_int().to_numpy(), new.conf_int().to_numpy())
    # the 90% interval is narrower than the 95% one: the keyword reached the estimator
    assert (new.conf_int(confidence_level=0.95)["conf_high"] > new.conf_int()["conf_high"]).all()
    with pytest.warns(bs.RenamedWarning):
        np.testing.assert_allclose(new.conf_int(level=0.95).to_numpy(), new.conf_int(confidence_level=0.95).to_numpy())


def test_old_and_new_name_together_are_refused(panel):
    with pytest.raises(bs.SpecificationError, match="level= and confidence_level= both given"):
        bs.fixed_effects(panel, "csat", ["habit_index"], level=0.9, confidence_level=0.9)


def test_chain_replicates_keyword(panel):
    with pytest.warns(bs.RenamedWarning, match=r"reps=\.\.\.\) is now bootstrap_reps"):
        old = bs.habit_to_revenue(panel, reps=5, seed=1, progress=False)
    new = bs.habit_to_revenue(panel, bootstrap_reps=5, seed=1, progress=False)
    assert 2 <= len(old.draws) <= 5  # replicates that cannot identify a link are left out
    np.testing.assert_array_equal(old.draws, new.draws)


def test_old_config_keys_are_read_under_their_new_names():
    with pytest.warns(bs.RenamedWarning, match=r"\[fixed_effects\] level is now called confidence_level"):
        config = config_from_dict({"fixed_effects": {"level": 0.9, "chain_reps": 50}})
    assert config.fixed_effects.confidence_level == 0.9 and config.fixed_effects.chain_bootstrap_reps == 50


def test_old_and_new_config_key_together_is_a_config_error():
    with warnings.catch_warnings(), pytest.raises(bs.ConfigError, match="level and confidence_level both given"):
        config_from_dict({"fixed_effects": {"level": 0.9, "confidence_level": 0.9}})


def test_a_family_that_kept_its_name_does_not_warn(panel):
    """family="normal" (the revenue model's) is a current name: no RenamedWarning; only the old "censored" warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.RenamedWarning)
        with pytest.raises(bs.SpecificationError):  # stops at the spec check, before any sampling
            bs.hierarchical(panel, "csat", ["habit_index"], random_seed=1, family="normal", draws=0)
    with pytest.warns(bs.RenamedWarning, match="family='censored' is now 'censored_normal'"), pytest.raises(bs.SpecificationError):
        bs.hierarchical(panel, "csat", ["habit_index"], random_seed=1, family="censored", draws=0)
