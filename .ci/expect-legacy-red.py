"""Checks the legacy-backend gate went red exactly where it must.

Usage: expect-legacy-red.py EXIT_CODE RESULTS_JSON. Passes only when the gate exited 1 (a
required case failed) and the cases that did not pass are exactly the daemon-restart cases of
lab-198, one per app, with no errors.
"""

import json
import sys

rc, path = int(sys.argv[1]), sys.argv[2]
results = json.load(open(path))
bad = sorted(
    (c["node"], c["name"], c["outcome"]) for c in results["cases"] if c["outcome"] != "pass"
)
want = sorted(
    ("lab-198", f"L3::{app}::daemon-restart", "fail")
    for app in results["apps"]
    for _ in range(results["iterations"])
)
if rc != 1 or bad != want:
    print(f"legacy gate: expected exit 1 and exactly {want}", file=sys.stderr)
    print(f"legacy gate: got exit {rc} and {bad}", file=sys.stderr)
    sys.exit(1)
print(
    f"legacy gate: red as it must be: exit {rc}, {len(bad)} daemon-restart failures on "
    f"lab-198 only (run {results['run_id']})"
)
