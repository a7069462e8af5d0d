#!/usr/bin/env bash
# Point-in-time recovery: a base restore and the replay of about 1 GB of WAL written since the
# backup (pgbench scale 100, then pgbench load), to a target after the load's last commit.
# lifeboat `restore --time` (restore_command served by the restore's prefetch server) against
# the local-replay limit (the same base with the same WAL already in its pg_wal: PostgreSQL
# replaying from local disk, no restore_command) and pgBackRest's restore with archive-async
# and its get queue, then PostgreSQL's recovery through its archive-get. lifeboat runs twice a
# round: with a generated key and with a passphrase (scrypt), the same repository re-keyed by
# `repo passwd` between them. Alternating, medians. Then one `recover --time` end to end (it
# makes the recovered instance production, so it runs once, last), with its steps' times.
#
# usage: bench/recovery_bench.sh              (scale 100, ~1 GB of WAL; 3 rounds)
#        SCALE=10 WAL_MB=200 ROUNDS=1 bench/recovery_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
scale="${SCALE:-100}"
wal_mb="${WAL_MB:-1024}"
rounds="${ROUNDS:-3}"
work="${BENCH_DIR:-$PWD/bench/data/recovery}"
port="${PORT:-54970}"
source "$PWD/bench/common.sh"
trap stop_clusters EXIT

stop_clusters
rm -rf "$work"
mkdir -p "$work"
chown postgres: "$work"
{ printf '[repository]\npath = "repo"\n'; lifeboat_settings; } > "$work/lifeboat.toml"
"$bin" repo keygen "$work/pass.key" >/dev/null
echo "bench passphrase for scrypt" > "$work/pass.phrase"
cp "$work/pass.key" "$work/pass"
{
  printf '[global]\nrepo1-path=%s/pgbr\narchive-async=y\narchive-get-queue-max=1GiB\n' "$work"
  pgbackrest_settings
} > "$work/pgbackrest.conf"
mkdir -p "$work/pgbr-log" "$work/pgbr-lock" "$work/pgbr-spool"
chown -R postgres: "$work"
chmod 600 "$work"/pass*
lb=(runuser -u postgres -- "$bin" -c "$work/lifeboat.toml")
br=(runuser -u postgres -- pgbackrest --config="$work/pgbackrest.conf" --stanza=bench)
start_pgbench "$(lb_push) && $(br_push)"
"${lb[@]}" repo init >/dev/null
"${br[@]}" stanza-create >/dev/null
archiver_idle
"${lb[@]}" backup >/dev/null
"${br[@]}" backup --type=full >/dev/null

# The load: pgbench until about $wal_mb MB of WAL was written since the backups.
lsn() { psql_q "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }
from=$(lsn)
while (($(lsn) - from < wal_mb * 1000000)); do
  as_pg "$pgbin/pgbench" -n -c 2 -T 10 -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
done
wal_bytes=$(($(lsn) - from))
sleep 1
target=$(psql_q "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
br_target=$(echo "$target" | sed 's/T/ /; s/Z$/+00/')  # pgBackRest's syntax
sleep 1
psql_q "SELECT txid_current()" >/dev/null
psql_q "SELECT pg_switch_wal()" >/dev/null
archiver_idle
echo "$((wal_bytes / 1000000)) MB of WAL since the backup; target $target" >&2
segments=$(ls "$work/repo/named/wal" | grep -c '^[0-9A-F]\{24\}$')

# The local-replay limit's WAL: every archived segment, fetched once (untimed) into a cache.
mkdir -p "$work/wal-cache"
chown postgres: "$work/wal-cache"
for f in $(ls "$work/repo/named/wal" | grep '^[0-9A-F]\{24\}$'); do
  "${lb[@]}" wal get "$f" "$work/wal-cache/$f"
done

# Re-keys the repository to the generated key or the passphrase (repo passwd, once scrypt).
current_key=key
rekey() {
  [[ $1 == "$current_key" ]] && return
  "${lb[@]}" repo passwd --new-passphrase-file "$work/pass.$1" >/dev/null
  cp "$work/pass.$1" "$work/pass"
  current_key=$1
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# Waits until the cluster at socket dir $1, port $2 answers and has left recovery.
await_promoted() {
  until [[ $(as_pg "$pgbin/psql" -qAtX -h "$1" -p "$2" -U postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]; do
    sleep 0.05
  done
}

for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  rm -rf "$work"/restore-*

  # lifeboat: restore --time, end to end (base, start, replay, promotion), with the key and
  # then with the passphrase; peak memory of the restore (with its prefetch server) from time.
  for kind in key phrase; do
    rekey "$kind"
    drop_caches; t=$(date +%s.%N)
    runuser -u postgres -- /usr/bin/time -f %M -o "$work/rss" "$bin" -c "$work/lifeboat.toml" --json \
      restore --time "$target" --instance "r$round" > "$work/lb.json"
    record "lb_total_$kind" "$(since "$t")"
    record "lb_rss_$kind" "$(($(tail -1 "$work/rss") / 1024))"
    record lb_spool "$(jq .wal_prefetch.from_spool "$work/lb.json")"
    "${lb[@]}" instance drop "r$round" >/dev/null
  done
  rekey key

  # The base alone (the same snapshot, not started).
  drop_caches; t=$(date +%s.%N)
  "${lb[@]}" restore --time "$target" --instance base --no-start >/dev/null 2>&1
  record lb_base "$(since "$t")"

  # The local-replay limit: that base, its WAL in pg_wal, no recovery settings.
  d="$work/instances/base/data"
  rm -f "$d/recovery.signal"
  sed -i '/^restore_command\|^recovery_target/d' "$d/postgresql.auto.conf"
  cp "$work"/wal-cache/* "$d/pg_wal/"
  chown -R postgres: "$d/pg_wal"
  drop_caches; t=$(date +%s.%N)
  as_pg "$pgbin/pg_ctl" start -D "$d" -l "$work/local.log" -w -s -t 600 \
    -o "-p $((port + 20)) -c archive_mode=off -c unix_socket_directories=$work/instances/base"
  await_promoted "$work/instances/base" $((port + 20))
  record local "$(since "$t")"
  as_pg "$pgbin/pg_ctl" stop -D "$d" -m immediate -s
  "${lb[@]}" instance drop base >/dev/null

  # pgBackRest: restore with the recovery settings, then PostgreSQL's recovery through
  # archive-get with archive-async and its queue.
  mkdir -p "$work/restore-$round"; chown postgres: "$work/restore-$round"
  drop_caches; t=$(date +%s.%N)
  "${br[@]}" restore --pg1-path="$work/restore-$round" --type=time --target="$br_target" --target-action=promote >/dev/null
  record br_base "$(since "$t")"
  as_pg "$pgbin/pg_ctl" start -D "$work/restore-$round" -l "$work/br.log" -w -s -t 600 \
    -o "-p $((port + 21)) -c archive_mode=off -c unix_socket_directories=$work/restore-$round"
  await_promoted "$work/restore-$round" $((port + 21))
  record br_total "$(since "$t")"
  as_pg "$pgbin/pg_ctl" stop -D "$work/restore-$round" -m immediate -s
  rm -rf "$work/restore-$round"
done
medians
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
lb_replay_key=$(sub "${m[lb_total_key]}" "${m[lb_base]}")
lb_replay_phrase=$(sub "${m[lb_total_phrase]}" "${m[lb_base]}")
br_replay=$(sub "${m[br_total]}" "${m[br_base]}")

# recover --time, once: restore and replay, verify (within a budget), cutover (the secret
# that points the application at production), report. Production is the recovered instance
# afterwards, so this is the last run.
"${lb[@]}" secret set db PGHOST="$work" PGPORT="$port" >/dev/null
budget="${VERIFY_BUDGET:-5s}"
printf '[recovery]\nsecret = "db"\n[objectives]\nrto = "15s"\nrpo = "1h"\n[verify]\nbudget = "%s"\n' "$budget" \
  >> "$work/lifeboat.toml"
drop_caches; t=$(date +%s.%N)
"${lb[@]}" --json recover --time "$target" --yes > "$work/recover.json"
recover_total=$(since "$t")
"${lb[@]}" --json runs > "$work/runs.json"
steps=$(jq -r '.[0].steps[] | "| \(.name) | \(.seconds * 100 | round / 100) | \(.detail | gsub("\\|"; "/")) |"' "$work/runs.json")
recover_rto=$(jq .result.rto_seconds "$work/recover.json")
recover_rpo=$(jq .result.rpo_seconds "$work/recover.json")
recover_basis=$(jq -r .result.rpo_basis "$work/recover.json")

cat <<REPORT
$(machine)
database: pgbench scale $scale, $((db_bytes / 1048576)) MiB; $((wal_bytes / 1000000)) MB of WAL ($segments archived segments) to replay; $rounds round(s), medians, page cache dropped before each run

| run | seconds | vs local replay | vs pgBackRest |
|---|---|---|---|
| local replay limit (base restored, WAL in pg_wal, crash recovery) | ${m[local]} | 1.00 | |
| lifeboat restore --time, end to end (generated key) | ${m[lb_total_key]} | | $(ratio "${m[lb_total_key]}" "${m[br_total]}") |
| lifeboat restore --time, end to end (passphrase) | ${m[lb_total_phrase]} | | $(ratio "${m[lb_total_phrase]}" "${m[br_total]}") |
| lifeboat: the base alone (restore --no-start) | ${m[lb_base]} | | |
| lifeboat: start, replay and promotion (generated key) | $lb_replay_key | $(ratio "$lb_replay_key" "${m[local]}") | $(ratio "$lb_replay_key" "$br_replay") |
| lifeboat: start, replay and promotion (passphrase) | $lb_replay_phrase | $(ratio "$lb_replay_phrase" "${m[local]}") | $(ratio "$lb_replay_phrase" "$br_replay") |
| pgBackRest restore --type=time, then recovery (archive-async, get queue 1 GiB) | ${m[br_total]} | | 1.00 |
| pgBackRest: the base alone | ${m[br_base]} | | |
| pgBackRest: start, replay and promotion | $br_replay | $(ratio "$br_replay" "${m[local]}") | 1.00 |

lifeboat's prefetch served ${m[lb_spool]} segments from its spool (median); peak memory of the restore
process: ${m[lb_rss_key]} MiB with the key, ${m[lb_rss_phrase]} MiB with the passphrase (spool bound on disk: 256 MiB)

recover --time, end to end: ${recover_total} s by the clock, RTO ${recover_rto} s and RPO ${recover_rpo} s ($recover_basis) as recover measured them ([verify] budget = "$budget")

| step | seconds | detail |
|---|---|---|
$steps
REPORT
