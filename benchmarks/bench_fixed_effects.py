"""Time bs.fixed_effects against pyfixest and raw linearmodels on balanced panels (not a test).

    python benchmarks/bench_fixed_effects.py [--rows 100000 1000000] [--repeat 3]

Two-way effects, three drivers, standard errors clustered by team. Each
engine gets the same data; bs.fixed_effects starts from a validated Panel
(validation is benchmarked separately), so its time includes building the
model frame, the ledger, identification checks and R-squared. Prints the best
of ``--repeat`` runs and the ratios to pyfixest.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from linearmodels import PanelOLS

import bstate_stats as bs


def balanced_panel(rows: int, periods: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    teams = rows // periods
    team = np.repeat(np.arange(teams), periods)
    period = np.tile(np.arange(periods), teams)
    x = rng.normal(size=(rows, 3)) + rng.normal(size=(teams, 1))[team]
    y = x @ [0.5, -0.2, 0.1] + rng.normal(size=teams)[team] + rng.normal(size=periods)[period] + rng.normal(size=rows)
    return pd.DataFrame({"team": team, "period": period, "y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})


def best_of(repeat: int, calls: dict) -> dict[str, float]:
    """Best time of each call: one untimed warm-up each (JIT compilation), then interleaved repeats."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'rows':>9} {'pyfixest_s':>11} {'bstate_s':>9} {'linearmodels_s':>15} {'bstate/pyfixest':>16} {'linearmodels/pyfixest':>22}")
    for rows in args.rows:
        data = balanced_panel(rows)
        panel = bs.Panel.from_frame(data, team="team", period="period", outcomes=["y"], drivers=["x1", "x2", "x3"])
        indexed = data.set_index(["team", "period"])
        best = best_of(
            args.repeat,
            {
                "pyfixest": lambda: pf.feols("y ~ x1 + x2 + x3 | team + period", data, vcov={"CRV1": "team"}),
                "bstate": lambda: bs.fixed_effects(panel, "y", ["x1", "x2", "x3"], effects="twoway", cluster="team"),
                "linearmodels": lambda: PanelOLS(indexed["y"], indexed[["x1", "x2", "x3"]], entity_effects=True, time_effects=True).fit(cov_type="clustered", cluster_entity=True),
            },
        )
        t_pf, t_bs, t_lm = best["pyfixest"], best["bstate"], best["linearmodels"]
        print(f"{rows:>9} {t_pf:>11.3f} {t_bs:>9.3f} {t_lm:>15.3f} {t_bs / t_pf:>16.2f} {t_lm / t_pf:>22.2f}")


if __name__ == "__main__":
    main()
