#!/usr/bin/env bash
# The test command: format, lints, and every unit and integration test of the workspace.
# Tests that need a real sshd start one themselves on loopback; none touch the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The orchestrator the lab deploys has fail points compiled in: lint and test that build too
# (its regression switches have their own test binary, which needs the feature).
cargo clippy -p orchestrator --all-targets --features failpoints --quiet -- -D warnings
cargo test --workspace --no-fail-fast
cargo test -p orchestrator --features failpoints --no-fail-fast
