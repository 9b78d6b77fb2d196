"""Validating and building a panel from CSV files against pyarrow reading the same files (not a test; run by hand).

    python benchmarks/bench_validation.py [--sizes 10000 100000 1000000] [--repeat 3]

Each size is a simulated case study (8 regions, 18 monthly periods, as many
teams as needed) written as three CSV files. In one run, interleaved and after
a warm-up (imports are not timed), the script times

* ``pyarrow``: ``pyarrow.csv.read_csv`` of the three files, types inferred;
* ``bs.load_panel``: reading, validating every rule and building the panel;

and prints the best time of each, their ratio (goal ≤ 3) and each one's peak
memory measured in a fresh process, next to the size of the files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = ("deliverables", "habits", "relationships")


def write_case(folder: Path, rows: int) -> int:
    """Write a simulated case study of about ``rows`` rows per table; returns the rows written."""
    import bstate_stats as bs

    study = bs.simulate.case_study(seed=1, n_regions=8, teams_per_region=max(1, round(rows / 18 / 8)), n_periods=18)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        getattr(study, name).to_csv(folder / f"{name}.csv", index=False)
    return len(study.deliverables)


def read_with_pyarrow(folder: Path) -> None:
    import pyarrow.csv as pacsv

    for name in TABLES:
        pacsv.read_csv(folder / f"{name}.csv")


def load_with_bstate(folder: Path) -> None:
    import bstate_stats as bs

    bs.load_panel(folder)


def best_times(folder: Path, repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` interleaved runs of each reader."""
    times: dict[str, list[float]] = {"pyarrow": [], "bstate": []}
    for _ in range(repeat):
        for label, reader in (("pyarrow", read_with_pyarrow), ("bstate", load_with_bstate)):
            start = time.perf_counter()
            reader(folder)
            times[label].append(time.perf_counter() - start)
    return min(times["pyarrow"]), min(times["bstate"])


def peak_memory_mb(folder: Path, reader: str) -> float:
    """Peak resident memory (VmHWM) of a fresh process that imports the toolkit and runs one reader."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import bstate_stats, pyarrow.csv; from pathlib import Path; "
        f"import bench_validation as b; b.{reader}(Path({str(folder)!r})); "
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(output.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        warm = Path(scratch) / "warm-up"
        write_case(warm, 2_000)
        best_times(warm, 1)
        print(f"{'rows/table':>10} {'CSV_MB':>7} {'pyarrow_s':>10} {'bstate_s':>9} {'ratio':>6} {'pyarrow_MB':>11} {'bstate_MB':>10}")
        for size in args.sizes:
            folder = Path(scratch) / str(size)
            rows = write_case(folder, size)
            megabytes = sum((folder / f"{name}.csv").stat().st_size for name in TABLES) / 1e6
            arrow, bstate = best_times(folder, args.repeat)
            memory = [peak_memory_mb(folder, reader) for reader in ("read_with_pyarrow", "load_with_bstate")]
            print(f"{rows:>10} {megabytes:>7.0f} {arrow:>10.3f} {bstate:>9.3f} {bstate / arrow:>6.2f} {memory[0]:>11.0f} {memory[1]:>10.0f}")


if __name__ == "__main__":
    main()
