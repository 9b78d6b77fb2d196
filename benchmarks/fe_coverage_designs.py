"""Why fixed-effects intervals fall short of the population slope in the default case study (not a test; run by hand).

    python benchmarks/fe_coverage_designs.py [--studies 400]

Coverage of the 95% interval of the habit effect and the mean estimate / truth over the same seeded studies in
four designs: the default case study; its ceiling alone (slopes equal for every team); its slope spread alone
(baseline satisfaction 4.5, away from the cap); neither. Two of them are re-measured on every CI run
(``tests/models/fixed_effects/test_coverage_claims.py``); this script separates the two causes.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import bstate_stats as bs

DESIGNS = {
    "default case study": {},
    "ceiling alone (equal slopes)": {"team_slope_sd": 0, "region_slope_sd": 0},
    "slope spread alone (baseline 4.5)": {"baseline_csat": 4.5},
    "neither (6 x 6 teams)": {"n_regions": 6, "teams_per_region": 6, "team_slope_sd": 0, "region_slope_sd": 0, "baseline_csat": 4.5},
}


def coverage(studies: int, design: dict) -> tuple[float, float]:
    """Share of 95% intervals covering the population habit slope, and the mean estimate / truth."""
    hits, ratios = [], []
    for seed in range(studies):
        study = bs.simulate.case_study(seed=1000 + seed, **design)
        result = bs.fixed_effects(study.panel(), "csat", ["habit_index", "relationship_index"], bootstrap_reps=0)
        low, high = result.conf_int().loc["habit_index"]
        truth = study.truth.habit_effect / 10
        hits.append(low < truth < high)
        ratios.append(result.params["habit_index"] / truth)
    return float(np.mean(hits)), float(np.mean(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=400)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'design':>36} {'coverage':>9} {'estimate/truth':>15}", flush=True)
    for name, design in DESIGNS.items():
        share, ratio = coverage(args.studies, design)
        print(f"{name:>36} {share:>9.4f} {ratio:>15.4f}", flush=True)


if __name__ == "__main__":
    main()
