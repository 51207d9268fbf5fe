"""Checks that a deliberately broken gate went red exactly where it must.

Usage: expect-red.py NAME EXIT_CODE RESULTS_JSON NODE CASE_REGEX. Passes only when the gate
exited 1 (a required case failed) and the cases that did not pass are exactly the cases whose
name matches CASE_REGEX on NODE, each a failure (not an error), in every iteration.
"""

import json
import re
import sys

name, rc, path, node, pattern = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
results = json.load(open(path))
bad = sorted(
    (c["node"], c["name"], c["outcome"]) for c in results["cases"] if c["outcome"] != "pass"
)
names = sorted({c["name"] for c in results["cases"] if re.fullmatch(pattern, c["name"])})
want = sorted(
    (node, n, "fail") for n in names for _ in range(results["iterations"])
)
if rc != 1 or not want or bad != want:
    print(f"{name}: expected exit 1 and exactly {want}", file=sys.stderr)
    print(f"{name}: got exit {rc} and {bad}", file=sys.stderr)
    for c in results["cases"]:
        if c["outcome"] != "pass":
            print(f"  {c['node']} {c['name']}: {c.get('message', '')}"[:400], file=sys.stderr)
    sys.exit(1)
print(
    f"{name}: red as it must be: exit {rc}, exactly {len(bad)} failures "
    f"({', '.join(names)}) on {node} (run {results['run_id']})"
)
