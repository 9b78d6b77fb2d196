#!/usr/bin/env bash
# Produced tests/reporting/reference/demo_headline.json: the demo's headline numbers at commit ea9ad33
# (before the model families moved into their folders), run from a checkout with its dependencies installed.
# sampling_seconds is dropped (a timing). Usage: bash tests/reporting/reference/make_demo_headline.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
git -C "$root" worktree add -q /tmp/bstate_reference ea9ad33
PYTHONPATH=/tmp/bstate_reference python -m bstate_stats.cli demo --out /tmp/bstate_reference_demo
python - "$root" <<'PY'
import json, sys
headline = json.load(open("/tmp/bstate_reference_demo/headline.json"))
headline.pop("sampling_seconds")
with open(f"{sys.argv[1]}/tests/reporting/reference/demo_headline.json", "w") as out:
    json.dump(headline, out, indent=2, sort_keys=True)
    out.write("\n")
PY
git -C "$root" worktree remove --force /tmp/bstate_reference
