"""Validation time for 1e4, 1e5 and 1e6 rows (not a test; run by hand).

    python benchmarks/bench_validation.py [--sizes 10000 100000 1000000]

Each size is a simulated case study with 18 monthly periods and as many teams
as needed; the time covers validating the three tables and building the panel.
"""

from __future__ import annotations

import argparse
import time

import bstate_stats as bs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"{'rows':>10} {'teams':>7} {'simulate_s':>11} {'validate_s':>11} {'rows_per_s':>11}")
    for size in args.sizes:
        n_periods = 18
        teams_per_region = max(1, round(size / n_periods / 8))
        start = time.perf_counter()
        study = bs.simulate.case_study(seed=1, n_regions=8, teams_per_region=teams_per_region, n_periods=n_periods)
        simulated = time.perf_counter() - start
        start = time.perf_counter()
        panel = bs.Panel.from_frames(study.deliverables, study.habits, study.relationships)
        validated = time.perf_counter() - start
        print(f"{panel.n_rows:>10} {len(panel.teams):>7} {simulated:>11.2f} {validated:>11.2f} {panel.n_rows / validated:>11.0f}")


if __name__ == "__main__":
    main()
