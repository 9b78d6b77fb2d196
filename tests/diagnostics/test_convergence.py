"""Each convergence check fires on the failure it names, alone, and passes well-mixed chains."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bstate_stats.diagnostics.convergence import BFMI_MIN, ESS_MIN, RHAT_MAX, ConvergenceWarning, check_convergence

CHAINS = 4


def _idata(*, shift: float = 0.0, rho: float = 0.0, divergent: int = 0, energy_walk: bool = False, draws: int = 1000, seed: int = 1) -> az.InferenceData:
    """Posterior draws of one parameter ``theta`` with sampler statistics, each pathology switched on alone."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(CHAINS, draws))
    theta = np.empty_like(noise)
    theta[:, 0] = noise[:, 0]
    for k in range(1, draws):  # AR(1): rho near 1 leaves few effective draws
        theta[:, k] = rho * theta[:, k - 1] + np.sqrt(1 - rho**2) * noise[:, k]
    theta[0] += shift  # one chain stuck elsewhere: R-hat
    diverging = np.zeros((CHAINS, draws), dtype=bool)
    diverging.flat[rng.choice(CHAINS * draws, divergent, replace=False)] = True
    energy = np.cumsum(rng.normal(scale=0.05, size=(CHAINS, draws)), axis=1) + 50 if energy_walk else rng.normal(50, 3, size=(CHAINS, draws))
    return az.from_dict(posterior={"theta": theta}, sample_stats={"diverging": diverging, "energy": energy})


def _failed_checks(report) -> set[str]:
    return set(report.summary().query("not ok")["check"])


def test_well_mixed_chains_pass_every_check():
    report = check_convergence(_idata(), warn=False)
    assert report.converged and _failed_checks(report) == set()
    assert "all checks passed" in report.message()


@pytest.mark.parametrize(
    ("pathology", "failed", "words"),
    [
        ({"shift": 1.0}, {"max R-hat", "min bulk ESS", "min tail ESS"}, f"R-hat > {RHAT_MAX} for 1 parameter(s): theta"),
        ({"rho": 0.98, "draws": 8000}, {"min bulk ESS"}, f"ESS < {ESS_MIN} for 1 parameter(s): theta"),
        ({"divergent": 3}, {"divergences"}, "3 divergent transition(s)"),
        ({"energy_walk": True}, {"min BFMI"}, f"< {BFMI_MIN}"),
    ],
)
def test_each_check_fires_on_its_failure_and_says_why(pathology, failed, words):
    """Exactly the checks named fail. A stuck chain also lowers the rank-normalised bulk and tail ESS (the two measure overlapping things)."""
    with pytest.warns(ConvergenceWarning, match="NOT CONVERGED"):
        report = check_convergence(_idata(**pathology))
    assert not report.converged
    assert _failed_checks(report) == failed
    assert words in report.message()
