"""The hierarchical engine against a hand-written PyMC model of the same structure (not a test; run by hand).

    python benchmarks/bench_engine.py [--sizes 24x18 500x24] [--samplers nutpie numpyro] [--seed 11]

For each panel size (teams x periods, 8 regions for large panels) and sampler:
total time of ``bs.hierarchical`` (data, model, compilation, sampling,
checks), minimum bulk and tail ESS over all parameters, divergences, and ESS
per second of total time; then the same for a hand-written PyMC model of the
same structure (censored Normal, team intercepts and habit slopes around
fixed or pooled regions, period effects) sampled with the same sampler on the
same data. The ratio of ESS per second is the engine's overhead (goal >= 0.8).
"""

from __future__ import annotations

import argparse
import time
import warnings

import arviz as az
import numpy as np
import pymc as pm

import bstate_stats as bs

DRIVERS = ["habit_index", "relationship_index"]


def hand_written(panel: bs.Panel) -> pm.Model:
    """The same model written directly in PyMC, as a user would (non-centred slopes, centred intercepts)."""
    frame = panel.model_frame("csat", DRIVERS, extra=["region"]).data
    team = frame.index.get_level_values("team")
    teams = np.unique(team)
    team_idx = np.searchsorted(teams, team)
    period_idx = np.unique(frame.index.get_level_values("t"), return_inverse=True)[1]
    regions, region_of_team = np.unique(frame.groupby(level="team")["region"].first().reindex(teams), return_inverse=True)
    x = ((frame[DRIVERS] - frame[DRIVERS].mean()) / frame[DRIVERS].std(ddof=0)).to_numpy()
    y = frame["csat"].to_numpy()
    inside, at_top = (y > 0) & (y < 10), y >= 10
    pooled = len(regions) >= 5
    with pm.Model(coords={"team": teams, "region": regions, "period": np.arange(period_idx.max() + 1), "driver": DRIVERS}) as model:
        alpha = pm.Normal("alpha", y.mean(), 2 * y.std())
        beta = pm.Normal("beta", 0, y.std(), dims="driver")
        if pooled:
            region_a = pm.ZeroSumNormal("region_a", sigma=pm.HalfNormal("region_sd", 0.5 * y.std()), dims="region")
            region_b = pm.ZeroSumNormal("region_b", sigma=pm.HalfNormal("region_slope_sd", 0.25 * y.std()), dims="region")
        else:
            region_a = pm.ZeroSumNormal("region_a", sigma=y.std(), dims="region")
            region_b = pm.math.zeros(len(regions))
        team_a = pm.Normal("team_a", alpha + region_a[region_of_team], pm.HalfNormal("team_sd", 0.5 * y.std()), dims="team")
        team_b = pm.Deterministic("team_b", region_b[region_of_team] + pm.HalfNormal("team_slope_sd", 0.25 * y.std()) * pm.Normal("team_b_z", dims="team"), dims="team")
        period = pm.ZeroSumNormal("period_effect", sigma=pm.HalfNormal("period_sd", 0.25 * y.std()), dims="period")
        mu = pm.math.dot(x, beta) + team_a[team_idx] + team_b[team_idx] * x[:, 0] + period[period_idx]
        sigma = pm.HalfNormal("sigma", y.std())
        pm.Normal("y", mu[inside], sigma, observed=y[inside])
        if at_top.any():
            pm.Potential("y_top", pm.logccdf(pm.Normal.dist(mu[at_top], sigma), 10.0).sum())
    return model


def _ess(idata) -> tuple[float, float, int, str]:
    ess = az.ess(idata, method="bulk")
    tail = az.ess(idata, method="tail")
    slowest = min(ess.data_vars, key=lambda v: float(ess[v].min()))
    low = float(ess[slowest].min())
    low_tail = min(float(tail[v].min()) for v in tail.data_vars)
    return low, low_tail, int(idata.sample_stats["diverging"].sum()), str(slowest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["24x18", "500x24"])
    parser.add_argument("--samplers", nargs="+", default=["nutpie"])
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    failures: list[str] = []
    print(f"{'panel':>8} {'rows':>6} {'what':>12} {'sampler':>8} {'total_s':>8} {'min_ess':>8} {'min_tail':>8} {'div':>4} {'ess_per_s':>9}", flush=True)
    for size in args.sizes:
        teams, periods = map(int, size.split("x"))
        regions = 4 if teams <= 24 else 8
        study = bs.simulate.case_study(seed=args.seed, n_regions=regions, teams_per_region=teams // regions, n_periods=periods, programme_start=periods // 3, ramp_periods=max(2, periods // 4))
        panel = study.panel()
        for sampler in args.samplers:
            start = time.perf_counter()
            fit = bs.hierarchical(panel, "csat", DRIVERS, random_seed=1, sampler=sampler, progress=False)
            total = time.perf_counter() - start
            bulk, tail, div, slowest = _ess(fit.idata)
            if not fit.converged:
                failures.append(f"{size} {sampler}: {fit.diagnostics.message()}")
            print(f"{size:>8} {panel.n_rows:>6} {'engine':>12} {sampler:>8} {total:>8.1f} {bulk:>8.0f} {tail:>8.0f} {div:>4} {bulk / total:>9.1f}  {slowest}; {fit.meta['region_effects']} regions; {fit.meta['team_effects']}", flush=True)
            start = time.perf_counter()
            with hand_written(panel):
                idata = pm.sample(1000, tune=1000, chains=4, random_seed=1, nuts_sampler=sampler, target_accept=0.9, progressbar=False)
            total_hand = time.perf_counter() - start
            bulk_h, tail_h, div_h, slowest_h = _ess(idata)
            print(f"{size:>8} {panel.n_rows:>6} {'hand-written':>12} {sampler:>8} {total_hand:>8.1f} {bulk_h:>8.0f} {tail_h:>8.0f} {div_h:>4} {bulk_h / total_hand:>9.1f}  {slowest_h}", flush=True)
            print(f"{'':>8} {'':>6} {'ratio':>12} {sampler:>8} ESS/s engine / hand-written = {(bulk / total) / (bulk_h / total_hand):.2f}", flush=True)
    if failures:
        raise SystemExit("the engine's default fit failed its checks: " + "; ".join(failures))


if __name__ == "__main__":
    main()
