"""PyMC NUTS against nutpie on the hierarchical model (not a test; run by hand).

    python benchmarks/bench_samplers.py [--sizes 50x12 500x24] [--samplers nutpie pymc]

For each panel size (teams x periods) and sampler: set-up time (data
preparation and model building: total minus the ``pm.sample`` call), sampling
time (the ``pm.sample`` call, which includes the sampler's own compilation),
minimum bulk ESS over all parameters, and ESS per second of total time. The default sampler of ``bs.hierarchical`` is the one with the
best ESS per second of total time.
"""

from __future__ import annotations

import argparse
import time
import warnings

import bstate_stats as bs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["50x12", "500x24"])
    parser.add_argument("--samplers", nargs="+", default=["nutpie", "pymc"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'panel':>8} {'rows':>6} {'sampler':>7} {'setup_s':>8} {'sampling_s':>11} {'total_s':>8} {'min_ess':>8} {'ess_per_s':>10} {'converged':>9}  slowest parameter", flush=True)
    for size in args.sizes:
        teams, periods = map(int, size.split("x"))
        study = bs.simulate.case_study(seed=11, n_regions=5, teams_per_region=teams // 5, n_periods=periods, programme_start=periods // 3, ramp_periods=max(2, periods // 4))
        panel = study.panel()
        for sampler in args.samplers:
            start = time.perf_counter()
            result = bs.hierarchical(panel, "csat", ["habit_index", "relationship_index"], random_seed=1, sampler=sampler, progress=False)
            total = time.perf_counter() - start
            sampling = result.meta["sampling_seconds"]
            table = result.diagnostics.table
            slowest = table.loc[table["ess_bulk"].idxmin()]
            min_ess = float(slowest["ess_bulk"])
            print(f"{size:>8} {panel.n_rows:>6} {sampler:>7} {total - sampling:>8.1f} {sampling:>11.1f} {total:>8.1f} {min_ess:>8.0f} {min_ess / total:>10.1f} {str(result.converged):>9}  {slowest['parameter']}", flush=True)


if __name__ == "__main__":
    main()
