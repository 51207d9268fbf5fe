"""Checks a gate with one node powered off: exit 3, that node's cases all errors, the other
node's cases all passed.

Usage: expect-node-errors.py EXIT_CODE RESULTS_JSON DOWN_NODE
"""

import json
import sys

rc, path, down = int(sys.argv[1]), sys.argv[2], sys.argv[3]
results = json.load(open(path))
cases = results["cases"]
down_cases = [c for c in cases if c["node"] == down]
up_cases = [c for c in cases if c["node"] not in (down, "local")]
problems = []
if rc != 3:
    problems.append(f"exit {rc}, not 3")
if not down_cases or any(c["outcome"] != "error" for c in down_cases):
    problems.append(f"{down}: not all errors: {sorted({c['outcome'] for c in down_cases})}")
if not up_cases or any(c["outcome"] != "pass" for c in up_cases):
    problems.append(f"other node: not all passed: {sorted({c['outcome'] for c in up_cases})}")
if problems:
    print("stopped node: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(
    f"stopped node: exit 3, {len(down_cases)} errors on {down}, "
    f"{len(up_cases)} passes elsewhere (run {results['run_id']})"
)
