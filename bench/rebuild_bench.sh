#!/usr/bin/env bash
# Scenario 3 on the demo's dataset: `lifeboat demo` builds the sandbox (the shop's three tenant
# databases with a month of orders, releases, front end, agent), its processes are stopped by
# pid (`demo --down`) and everything but the repository is removed; then `lifeboat bootstrap`
# from the repository's path and a copy of the key rebuilds the stack in a new directory.
# Reported per run: the bootstrap's wall time, its RTO (run start to the health gate through
# the load balancer), its RPO and each step's time; then the medians.
#
# usage: bench/rebuild_bench.sh            (3 runs)
#        RUNS=1 bench/rebuild_bench.sh
#        LIFEBOAT=build/debug/src/cli/lifeboat bench/rebuild_bench.sh   (another build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${LIFEBOAT:-$PWD/build/release/src/cli/lifeboat}"
runs="${RUNS:-3}"
work="${BENCH_DIR:-/var/tmp/lifeboat-rebuild-bench}"
source "$PWD/bench/common.sh"

# The rebuilt stack, stopped by pid: its services and haproxy (down), its agent (the pid its
# lock holds), its PostgreSQL instances.
stop_new() {
  local new="$work/new"
  [[ -f $new/lifeboat.toml ]] || return 0
  "$bin" -c "$new/lifeboat.toml" down >/dev/null 2>&1 || true
  local pid
  pid=$(head -c 20 "$new/.lifeboat/agent/lock" 2>/dev/null | tr -dc 0-9 || true)
  if [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  for d in "$new"/.lifeboat/instances/*/data; do
    [[ -f $d/postmaster.pid ]] && as_pg "$pgbin/pg_ctl" stop -D "$d" -m fast -w -s >/dev/null 2>&1 || true
  done
}
cleanup() {
  stop_new
  [[ -d $work/demo ]] && "$bin" demo --dir "$work/demo" --down >/dev/null 2>&1 || true
}
trap cleanup EXIT

for ((i = 1; i <= runs; i++)); do
  cleanup
  rm -rf "$work"
  mkdir -p "$work"
  "$bin" demo --dir "$work/demo" > "$work/demo.out" 2>&1 || { tail -20 "$work/demo.out" >&2; exit 2; }
  "$bin" demo --dir "$work/demo" --down > /dev/null
  cp "$work/demo/passphrase" "$work/key"
  find "$work/demo" -mindepth 1 -maxdepth 1 ! -name repo -exec rm -rf {} +
  start=$(date +%s.%N)
  "$bin" bootstrap --repository "$work/demo/repo" --key "$work/key" --dir "$work/new" --yes --json \
    > "$work/bootstrap.json" 2> "$work/bootstrap.err" || { cat "$work/bootstrap.err" >&2; exit 2; }
  end=$(date +%s.%N)
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  record wall "$wall"
  record rto "$(jq -r '.result.rto_seconds' "$work/bootstrap.json")"
  record rpo "$(jq -r '.result.rpo_seconds' "$work/bootstrap.json")"
  steps=$(jq -r '.steps[] | "\(.name)=\(.seconds * 100 | round / 100)"' "$work/bootstrap.json")
  for s in $steps; do record "step_${s%%=*}" "${s#*=}"; done
  echo "run $i: wall ${wall}s, RTO $(jq -r '.result.rto_seconds' "$work/bootstrap.json")s, RPO $(jq -r '.result.rpo_seconds' "$work/bootstrap.json")s;" \
    "$(echo "$steps" | tr '\n' ' ')"
  curl -fsS -o /dev/null "http://127.0.0.1:$(awk -F' = ' '/^\[load_balancer\]/ {f=1} f && /^port/ {print $2; exit}' "$work/new/lifeboat.toml")/order/products" \
    || { echo "error: the rebuilt shop does not answer" >&2; exit 2; }
  stop_new
done

medians
machine
echo "median over $runs run(s): bootstrap wall ${m[wall]} s, RTO ${m[rto]} s, RPO ${m[rpo]} s"
for k in window restore verify frontend stack cutover report agent inventory definition; do
  echo "  $k: ${m[step_$k]} s"
done
