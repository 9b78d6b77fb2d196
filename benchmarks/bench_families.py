"""Does every outcome family converge at the engine's defaults on data it was not tuned on? (not a test; run by hand)

    python benchmarks/bench_families.py [--seeds 201 202] [--families poisson beta]

Fits ``bs.hierarchical(..., family=name)`` with its default settings (4 chains x 2000 draws, target_accept 0.9, a
second attempt at 0.95 after divergences: column ``first_div``)
to panels simulated by ``bs.simulate.family_study`` (4 regions x 6 teams x 12 periods, and 8 regions x 10 teams x
24 periods), prints the checks, the time and whether the 90% interval of the teams' average effect covers the
truth. Exits 1 when any fit fails its checks, so the README's claim fails loudly when it stops holding.
"""

from __future__ import annotations

import argparse
import time
import warnings

import bstate_stats as bs
from bstate_stats.models.hierarchical.families import FAMILIES

SHAPES = {"4x6x12": {"n_regions": 4, "teams_per_region": 6, "n_periods": 12}, "8x10x24": {"n_regions": 8, "teams_per_region": 10, "n_periods": 24}}
OPTIONS = {"binomial": "trials", "poisson": "exposure", "negative_binomial": "exposure"}


def fit_family(name: str, seed: int, shape: dict[str, int]) -> tuple[bs.simulate.FamilyStudy, object, float]:
    """Simulate a panel of the family and fit it with the defaults; return the study, the fit and the seconds taken."""
    study = bs.simulate.family_study(name, seed=seed, **shape)
    options = {OPTIONS[name]: study.extra_column} if name in OPTIONS else {}
    start = time.perf_counter()
    fit = bs.hierarchical(study.panel(), "outcome", ["habit_index"], random_seed=seed, family=name, progress=False, credible_level=0.9, **options)
    return study, fit, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[201, 202])
    parser.add_argument("--families", nargs="+", default=sorted(FAMILIES))
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    failed = []
    print(f"{'family':>18} {'shape':>8} {'seed':>4} {'total_s':>7} {'min_ess':>7} {'min_tail':>8} {'max_rhat':>8} {'div':>4} {'converged':>9} {'covers':>6} {'first_div':>9}", flush=True)
    for name in args.families:
        for shape in args.shapes:
            for seed in args.seeds:
                study, fit, total = fit_family(name, seed, SHAPES[shape])
                table = fit.diagnostics.table
                row = fit.effects("population").iloc[0]
                covers = row["hdi_low"] < study.truth["teams_effect"] < row["hdi_high"]
                print(
                    f"{name:>18} {shape:>8} {seed:>4} {total:>7.1f} {table['ess_bulk'].min():>7.0f} {table['ess_tail'].min():>8.0f} {table['r_hat'].max():>8.4f} "
                    f"{fit.diagnostics.divergences:>4} {str(fit.converged):>9} {str(covers):>6} {fit.meta.get('first_attempt', {}).get('divergences', 0):>9}",
                    flush=True,
                )
                if not fit.converged:
                    failed.append(f"{name} {shape} (seed {seed})")
    if failed:
        raise SystemExit(f"the defaults failed their checks on: {', '.join(failed)}")


if __name__ == "__main__":
    main()
