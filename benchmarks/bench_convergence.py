"""Do the defaults converge on panels they were not tuned on? (not a test; run by hand)

    python benchmarks/bench_convergence.py [--seeds 101 102]
    python benchmarks/bench_convergence.py --panels case-study --seeds 1 2 3 4 5 --draws 1000 2000
    python benchmarks/bench_convergence.py --panels case-study --seeds 1 2 3 --team-effects centred
    python benchmarks/bench_convergence.py --panels 5-regions 6-regions --seeds 101 102 --region-effects partial_pooling

Fits the censored-Normal model (``bs.hierarchical`` with its defaults unless an option says otherwise) to
simulated case studies with 3, 5, 6, 8 and 12 regions, to an unbalanced panel (4 regions x 10 teams x 18
months with 8% of rows missing at random) and to the default case study, each with the data seeds given,
and prints every check. Exits 1 when any fit fails its checks, so the claims in the README fail loudly
when they stop holding (run with the defaults; the options reproduce the settings the defaults replaced).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

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


def _regions(n: int) -> Callable[[int], bs.Panel]:
    return lambda seed: bs.simulate.case_study(seed=seed, n_regions=n, teams_per_region=6, n_periods=18).panel()


PANELS: dict[str, tuple[str, Callable[[int], bs.Panel]]] = {
    **{f"{n}-regions": (f"{n} regions x 6 teams x 18", _regions(n)) for n in (3, 5, 6, 8, 12)},
    "unbalanced": ("unbalanced 4 x 10 x 18, 8% missing", unbalanced),
    "case-study": ("case study (4 x 6 x 18)", lambda seed: bs.simulate.case_study(seed=seed).panel()),
}
NOT_TUNED_ON = ["3-regions", "5-regions", "8-regions", "12-regions", "unbalanced"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=[101])
    parser.add_argument("--panels", nargs="+", choices=list(PANELS), default=NOT_TUNED_ON)
    parser.add_argument("--draws", nargs="+", type=int, default=[bs.HierarchicalSpec.draws])
    parser.add_argument("--team-effects", default="auto", choices=["auto", "centred", "non-centred"])
    parser.add_argument("--region-effects", default="auto", choices=["auto", "partial_pooling", "fixed", "none"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    failed = []
    print(f"{'panel':>36} {'seed':>4} {'draws':>5} {'rows':>5} {'regions':>15} {'total_s':>7} {'sample_s':>8} {'min_ess':>7} {'min_tail':>8} {'max_rhat':>8} {'div':>4} {'converged':>9}", flush=True)
    for key in args.panels:
        name, make = PANELS[key]
        for seed in args.seeds:
            panel = make(seed)
            for draws in args.draws:
                start = time.perf_counter()
                fit = bs.hierarchical(panel, "csat", DRIVERS, random_seed=seed, progress=False, draws=draws, team_effects=args.team_effects, region_effects=args.region_effects)
                total = time.perf_counter() - start
                table = fit.diagnostics.table
                print(
                    f"{name:>36} {seed:>4} {draws:>5} {panel.n_rows:>5} {fit.meta['region_effects']:>15} {total:>7.1f} {fit.meta.get('sampling_seconds', float('nan')):>8.1f} "
                    f"{table['ess_bulk'].min():>7.0f} {table['ess_tail'].min():>8.0f} {table['r_hat'].max():>8.4f} {fit.diagnostics.divergences:>4} {str(fit.converged):>9}",
                    flush=True,
                )
                if not fit.converged:
                    failed.append(f"{name} (seed {seed}, {draws} draws)")
    if failed:
        raise SystemExit(f"failed their checks: {', '.join(failed)}")


if __name__ == "__main__":
    main()
