#!/usr/bin/env bash
# The main job: the release gate against the lab fleet, bringing the lab up if needed.
# Arguments go to `harness gate` (default: --iterations 20). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p harness
target/release/harness lab up
if (($#)); then
  exec target/release/harness gate "$@"
fi
exec target/release/harness gate --iterations 20
