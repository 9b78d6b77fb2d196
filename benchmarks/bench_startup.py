"""Wall time of the command line where users wait for it to start (not a test; run by hand).

    python benchmarks/bench_startup.py [--repeat 5]

Times ``bstate-stats --help`` and ``bstate-stats validate data/example`` in fresh processes (best of
``--repeat``), next to ``python -c "import pandas"`` as the floor every command that reads data pays.
Public names are imported on first use (PEP 562), so neither command imports PyMC, pyfixest or matplotlib.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, command in COMMANDS.items():
        print(f"{name:>36}: {best_wall_time(command, args.repeat):.2f} s", flush=True)


if __name__ == "__main__":
    main()
