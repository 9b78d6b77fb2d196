"""Do the defaults converge on panels they were not tuned on? (not a test; run by hand)

    python benchmarks/bench_convergence.py [--seeds 1 2]

Fits the default censored-Normal model (``bs.hierarchical`` with its defaults) to simulated case studies
with 3, 5, 8 and 12 regions, and to an unbalanced panel (4 regions x 10 teams x 18 months with 8% of rows
missing at random), each with a data seed the defaults were never tuned on, and prints every check. Exits 1 when any fit
fails its checks, so the claim in the README fails loudly when it stops holding.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import bstate_stats as bs

DRIVERS = ["habit_index", "relationship_index"]


def unbalanced(seed: int) -> bs.Panel:
    study = bs.simulate.case_study(seed=seed, n_regions=4, teams_per_region=10, n_periods=18)
    rng = np.random.default_rng(seed)
    tables = {name: frame.copy() for name, frame in study.tables.items()}
    keep = rng.random(len(tables["deliverables"])) >= 0.08
    tables["deliverables"] = tables["deliverables"][keep]
    return bs.Panel.from_frames(*tables.values())


def panels(seed: int):
    for regions in (3, 5, 8, 12):
        yield f"{regions} regions x 6 teams x 18", bs.simulate.case_study(seed=seed, n_regions=regions, teams_per_region=6, n_periods=18).panel()
    yield "unbalanced 4 x 10 x 18, 8% missing", unbalanced(seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[101])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    failed = []
    print(f"{'panel':>36} {'seed':>4} {'rows':>5} {'regions':>15} {'total_s':>7} {'min_ess':>7} {'min_tail':>8} {'max_rhat':>8} {'div':>4} {'converged':>9}", flush=True)
    for seed in args.seeds:
        for name, panel in panels(seed):
            start = time.perf_counter()
            fit = bs.hierarchical(panel, "csat", DRIVERS, random_seed=seed, progress=False)
            total = time.perf_counter() - start
            table = fit.diagnostics.table
            print(
                f"{name:>36} {seed:>4} {panel.n_rows:>5} {fit.meta['region_effects']:>15} {total:>7.1f} {table['ess_bulk'].min():>7.0f} {table['ess_tail'].min():>8.0f} "
                f"{table['r_hat'].max():>8.4f} {fit.diagnostics.divergences:>4} {str(fit.converged):>9}",
                flush=True,
            )
            if not fit.converged:
                failed.append(f"{name} (seed {seed})")
    if failed:
        raise SystemExit(f"the defaults failed their checks on: {', '.join(failed)}")


if __name__ == "__main__":
    main()
