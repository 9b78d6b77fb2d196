"""Normal against censored-Normal likelihood for satisfaction (not a test; run by hand).

    python benchmarks/compare_likelihoods.py

Two simulated case studies: the default one (about 1% of scores at the
ceiling of 10) and one with higher satisfaction (many scores at 10). For each
likelihood: the population habit effect against the truth, PSIS-LOO (elpd;
for the censored model the scores at a bound contribute log P(score at the
bound), so its elpd mixes densities and probabilities and is compared on the
rows strictly inside the bounds), and a posterior predictive check of the
share of scores at 10.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pymc as pm

import bstate_stats as bs


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"{'case':>8} {'likelihood':>10} {'effect':>7} {'truth':>6} {'elpd_inside':>12} {'share_at_10_obs':>16} {'share_at_10_rep':>16} {'converged':>9}", flush=True)
    for case, options in (("default", {}), ("ceiling", {"baseline_csat": 7.2})):
        study = bs.simulate.case_study(seed=7, **options)
        panel = study.panel()
        for likelihood in ("normal", "censored_normal"):
            fit = bs.hierarchical(panel, "csat", ["habit_index", "relationship_index"], random_seed=1, family=likelihood, progress=False)
            with fit.model:
                pm.compute_log_likelihood(fit.idata, var_names=["y"], progressbar=False)
            y = fit.arrays["y"]
            inside = np.flatnonzero((y > 0) & (y < 10))
            log_lik = fit.idata.log_likelihood["y"]
            log_lik = log_lik.isel(row=inside) if "row" in log_lik.dims else log_lik  # the censored model's "y" holds only interior rows
            loo = az.loo(az.InferenceData(posterior=fit.idata.posterior, log_likelihood=log_lik.to_dataset(name="y")))
            replicated = fit.posterior_predictive(200)
            effect = fit.habit_effects("population").iloc[0]["mean"]
            print(f"{case:>8} {likelihood:>10} {effect:>7.3f} {study.truth.habit_effect:>6.2f} {loo.elpd_loo:>12.1f} {np.mean(y >= 10):>16.3f} {np.mean(replicated >= 10):>16.3f} {str(fit.converged):>9}", flush=True)


if __name__ == "__main__":
    main()
