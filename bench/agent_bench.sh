#!/usr/bin/env bash
# The agent's own cost while it watches: an idle cluster (pgbench scale 1, no load), the agent
# with every job scheduled daily (none due during the run), its supervised wal stream, and
# /metrics with the default probe interval (60 s: snapshots, window, drills and status as child
# processes). Measured from /proc over DURATION seconds after a warm-up: CPU of the agent
# including its probes (user + system, its reaped children counted), CPU of the streamer, and
# the peak RSS (VmHWM) of each.
#
# usage: bench/agent_bench.sh             (180 s)
#        DURATION=60 bench/agent_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
scale=1
duration="${DURATION:-180}"
work="${BENCH_DIR:-$PWD/bench/data/agent}"
port="${PORT:-55000}"
metrics_port=$((port + 50))
source "$PWD/bench/common.sh"
agent=0
cleanup() {
  ((agent > 0)) && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  stop_clusters
}
trap cleanup EXIT

stop_clusters
rm -rf "$work"
mkdir -p "$work"
chown postgres: "$work"
{
  printf '[repository]\npath = "repo"\n'
  lifeboat_settings
  printf '[schedule]\nfull = "daily 03:00"\nwindow = "03:00-04:00"\nincremental = "daily 12:00"\n'
  printf 'expire = "daily 04:30"\nverify = "daily 05:00"\ndrill = "monthly"\n'
  printf '[agent]\nlisten = "127.0.0.1:%d"\n' "$metrics_port"
} > "$work/lifeboat.toml"
"$bin" repo keygen "$work/pass" >/dev/null
chown -R postgres: "$work"
chmod 600 "$work/pass"
lb=(runuser -u postgres -- "$bin" -c "$work/lifeboat.toml")
start_pgbench "$(lb_push)"
"${lb[@]}" repo init >/dev/null
archiver_idle
"${lb[@]}" backup >/dev/null

# Started as root, the agent becomes the database's owner itself (as under systemd).
"$bin" -c "$work/lifeboat.toml" agent 2> "$work/agent.log" &
agent=$!
sleep 15  # the first probe cycle and the streamer's start
streamer=""
for p in /proc/[0-9]*; do
  [[ $(awk '{print $4}' "$p/stat" 2>/dev/null) == "$agent" ]] && tr '\0' ' ' < "$p/cmdline" | grep -q "wal stream" && streamer=${p#/proc/}
done
[[ -n $streamer ]] || { echo "error: the agent runs no streamer" >&2; cat "$work/agent.log" >&2; exit 2; }

# Clock ticks of user + system time; with "c", the reaped children's too (fields 14-17).
ticks() { awk -v c="$2" '{ print $14 + $15 + (c ? $16 + $17 : 0) }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
a0=$(ticks "$agent" 1); s0=$(ticks "$streamer" 0)
sleep "$duration"
a1=$(ticks "$agent" 1); s1=$(ticks "$streamer" 0)
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
agent_rss=$(hwm "$agent"); streamer_rss=$(hwm "$streamer")
t=$(date +%s.%N); curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$work/metrics.txt"
scrape=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
pct() { awk -v d="$1" -v hz="$hz" -v s="$duration" 'BEGIN { printf "%.2f", d / hz / s * 100 }'; }

cat <<REPORT
$(machine)
agent idle for $duration s: every job scheduled daily (none due), wal stream supervised, /metrics probed every 60 s

| process | CPU (% of one core) | peak RSS (VmHWM) |
|---|---|---|
| lifeboat agent, with its probes | $(pct $((a1 - a0))) | $agent_rss MiB |
| its wal stream | $(pct $((s1 - s0))) | $streamer_rss MiB |

one scrape of /metrics: $scrape ms, $(grep -c '^lifeboat_' "$work/metrics.txt") samples
REPORT
