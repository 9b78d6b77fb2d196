"""Wall time of the command line where users wait for it (not a test; run by hand).

    python benchmarks/bench_startup.py [--repeat 5] [--demo]

Times ``bstate-stats --help`` and ``bstate-stats validate data/example`` in fresh processes (best of
``--repeat``), next to ``python -c "import pandas"`` as the floor every command that reads data pays.
Public names are imported on first use (PEP 562), so neither command imports PyMC, pyfixest or matplotlib.

With ``--demo`` it also runs the main job once, ``bstate-stats demo`` into a scratch folder (report
included), and prints its wall time (goal: 45 s after install) and each step's seconds from the run's
manifest.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c 'import pandas'": [sys.executable, "-c", "import pandas"],
    "bstate-stats --help": [sys.executable, "-m", "bstate_stats.cli", "--help"],
    "bstate-stats validate data/example": [sys.executable, "-m", "bstate_stats.cli", "validate", str(ROOT / "data" / "example")],
}


def best_wall_time(command: list[str], repeat: int) -> float:
    """Best wall time of ``repeat`` fresh processes (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def time_demo() -> None:
    """Run ``bstate-stats demo`` once in a fresh process; print its wall time and each step's seconds."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "demo"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bstate_stats.cli", "demo", "--out", str(out)], check=True, capture_output=True)
        wall = time.perf_counter() - start
        steps = json.loads((out / "manifest.json").read_text())["seconds"]
    print(f"{'bstate-stats demo':>36}: {wall:.1f} s (goal 45 s)")
    for step, seconds in steps.items():
        print(f"{step:>36}: {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--demo", action="store_true", help="also time the main job once")
    args = parser.parse_args()
    for name, command in COMMANDS.items():
        print(f"{name:>36}: {best_wall_time(command, args.repeat):.2f} s", flush=True)
    if args.demo:
        time_demo()


if __name__ == "__main__":
    main()
