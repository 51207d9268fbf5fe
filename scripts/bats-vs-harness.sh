#!/usr/bin/env bash
# The same read-only checks, written the way the owner's bats suites are (one curl or ssh per
# check, one after another) and run by the harness, side by side on one lab node: prints both
# wall times and the ratio.
#
#   scripts/bats-vs-harness.sh [ITERATIONS]     (default 5; the lab must be up; root)
#
# The bats suite is generated from suites/lab/*.toml: per app and iteration, `present` (podman
# inspect over ssh, package.status), `valid` (package.status, container-list, podman inspect),
# `rpc` (each [[rpc]] probe) and `ui` (each [[ui]] URL and its text), as
# `harness run <apps> --layer L1,L2 --node lab-228` checks them. Only lab-228 is contacted, and
# only after the route to it is seen to leave through the lab's bridge.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-5}
node=10.77.0.228
lab=/var/lib/archy-lab
ip route get "$node" | grep -q " dev archy-lab0 " ||
  { echo "the route to $node does not leave through archy-lab0: is the lab up?" >&2; exit 3; }
command -v bats >/dev/null || { apt-get install -y -qq bats >/dev/null; }
work=$(mktemp -d /tmp/bats-vs-harness.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$iterations" "$node" "$lab" > "$work/checks.bats" <<'PY'
import glob, json, shlex, sys, tomllib
iterations, node, lab = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ssh = (f"ssh -q -i {lab}/ssh/id_ed25519 -o UserKnownHostsFile={lab}/ssh/known_hosts "
       f"-o BatchMode=yes root@{node}")
podman = "cd / \\&\\& runuser -u archy -- env XDG_RUNTIME_DIR=/run/user/1000 podman"
rpc = f"curl -fsS -m 10 http://{node}:5678/rpc -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json'"
print("setup_file() {")
print(f"  export TOKEN=$(curl -fsS -m 10 http://{node}:5678/rpc -H 'Content-Type: application/json' "
      f"-d \"{{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"method\\\":\\\"auth.login\\\",\\\"params\\\":"
      f"{{\\\"password\\\":\\\"$(cat {lab}/secrets/orchestrator-password)\\\"}}}}\" | "
      "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"result\"][\"token\"])')")
print("}")
def call(method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return f"{rpc} -d {shlex.quote(body)}"
for i in range(1, iterations + 1):
    for path in sorted(glob.glob("suites/lab/*.toml")):
        s = tomllib.load(open(path, "rb"))
        app = s["app"]
        status = call("package.status", {"id": app})
        inspect = f"{ssh} {podman} container inspect -f '{{{{.State.Running}}}}' {app}"
        print(f"@test '#{i} L1::{app}::present' {{\n  [ \"$({inspect})\" = true ]\n  {status} | grep -q '\"state\":\"running\"'\n}}")
        print(f"@test '#{i} L1::{app}::valid' {{\n  {status} | grep -q '\"health\":\"healthy\"'\n"
              f"  {call('container-list', {})} | grep -q '\"id\":\"{app}\"'\n  [ \"$({inspect})\" = true ]\n}}")
        lines = []
        for p in s.get("rpc", []):
            if p["kind"] == "app-json-rpc":
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": p["method"], "params": {}})
                lines.append(f"curl -fsS -m 10 http://{node}:{p['port']}{p.get('path', '/')} -H 'Content-Type: application/json' -d {shlex.quote(body)} | grep -q {shlex.quote(json.dumps(p['expect']['value']))}")
            elif p["kind"] == "tcp":
                # fd 3 is bats' own output: the probe's socket is fd 7.
                lines.append(f"exec 7<>/dev/tcp/{node}/{p['port']}; printf '%s\\n' {shlex.quote(p['send'])} >&7; read -r -t 5 line <&7; exec 7<&-; [[ $line == *{shlex.quote(p['expect'])}* ]]")
            elif p["kind"] == "ssh":
                lines.append(f"{ssh} {shlex.quote(p['command'])} | grep -q {shlex.quote(p['expect'])}")
            elif p["kind"] == "orchestrator-rpc":
                lines.append(f"{call(p['method'], p.get('params', {}))} | grep -q {shlex.quote(json.dumps(p['expect']['value']))}")
        if lines:
            print(f"@test '#{i} L1::{app}::rpc' {{\n  " + "\n  ".join(lines) + "\n}")
        urls = []
        for u in s.get("ui", []):
            if u["kind"] == "dashboard":
                url, auth = f"http://{node}:5678/", "-H \"Cookie: orchestrator_session=$TOKEN\""
            elif u["kind"] == "app-proxy":
                url, auth = f"http://{node}:5678/app/{u.get('prefix', app)}/{u['path']}", "-H \"Cookie: orchestrator_session=$TOKEN\""
            else:
                url, auth = f"http://{node}:{u['port']}{u['path']}", ""
            text = f"-F {shlex.quote(u['contains'])}" if "contains" in u else "."
            urls.append(f"curl -fsS -m 10 {auth} {url} | grep -q {text}")
        if urls:
            print(f"@test '#{i} L2::{app}::ui' {{\n  " + "\n  ".join(urls) + "\n}")
PY

apps=$(ls suites/lab/*.toml | xargs -n1 basename | sed 's/\.toml$//' | tr '\n' ' ')
cargo build --release --quiet -p harness
bats_start=$(date +%s.%N)
bats --tap "$work/checks.bats" > "$work/bats.tap" || { tail -n 20 "$work/bats.tap" >&2; exit 1; }
bats_s=$(echo "$(date +%s.%N) - $bats_start" | bc)
harness_start=$(date +%s.%N)
# shellcheck disable=SC2086
target/release/harness run $apps --layer L1,L2 --iterations "$iterations" --node lab-228 \
  --reports "$work/reports" > "$work/harness.log" || { tail -n 20 "$work/harness.log" >&2; exit 1; }
harness_s=$(echo "$(date +%s.%N) - $harness_start" | bc)
printf 'bats: %s tests in %.1f s; harness: %s in %.1f s; ratio %.1fx\n' \
  "$(grep -c '^ok' "$work/bats.tap")" "$bats_s" "$(grep -E 'passed, ' "$work/harness.log" | tail -n 1)" \
  "$harness_s" "$(echo "$bats_s / $harness_s" | bc -l)"
