#!/usr/bin/env bash
# Timed run on a lab node (root, lab up): package.install of a small app until its health check
# passes (median of 10), the systemctl/podman calls of the last install from server.metrics, and
# orchestrator start to RPC listening (its own startup_ms, and from outside over 10 restarts).
# Talks only to a lab node, after checking the route to it goes through the lab bridge.
set -euo pipefail
node=${1:-10.77.0.228}
app=${2:-lab-explorer}
ip route get "$node" | grep -q "dev archy-lab0" || { echo "lab is down: run harness lab up" >&2; exit 3; }
key=/var/lib/archy-lab/ssh/id_ed25519
ssh_node() { ssh -q -i "$key" -o UserKnownHostsFile=/var/lib/archy-lab/ssh/known_hosts "root@$node" "$@"; }
password=$(cat /var/lib/archy-lab/secrets/orchestrator-password)
rpc() {  # rpc METHOD PARAMS -> result JSON
  curl -sf -m 10 -X POST "http://$node:5678/rpc" -H "Authorization: Bearer ${token:-}" -H "Content-Type: application/json" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(json.dumps(r.get("result", r.get("error"))))'
}
login() { token=$(rpc auth.login "{\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'); }
now_ms() { date +%s%3N; }
login
times=()
for _ in $(seq 10); do
  rpc package.uninstall "{\"id\":\"$app\",\"purge\":false}" > /dev/null || true
  t0=$(now_ms)
  rpc package.install "{\"id\":\"$app\"}" > /dev/null
  until [[ $(rpc package.status "{\"id\":\"$app\"}") == *'"health": "healthy"'* ]]; do sleep 0.01; done
  times+=($(( $(now_ms) - t0 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "install until healthy ($app on $node), 10 runs, ms: ${times[*]}"
echo "install until healthy median: $(( (sorted[4] + sorted[5]) / 2 )) ms"
echo "last operation: $(rpc server.metrics '{}' | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["last_operation"])')"
starts=()
for _ in $(seq 5); do
  sleep 2.5  # systemd allows 5 starts of a unit in 10 s
  t0=$(now_ms)
  ssh_node systemctl restart orchestrator.service
  until curl -s -o /dev/null "http://$node:5678/healthz"; do sleep 0.005; done
  starts+=($(( $(now_ms) - t0 )))
done
login
echo "systemctl restart to /healthz answering, 5 runs, ms (includes one ssh round trip): ${starts[*]}"
echo "orchestrator's own start to listening: $(rpc server.metrics '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["startup_ms"])') ms"
