#!/usr/bin/env bash
# WAL replay from S3 against replay from a local repository, the same WAL: one lifeboat config
# with a local primary repository and an S3 offsite one (a single-node Ceph RGW over TLS,
# started here by the tests' rgw_fixture). archive_command pushes every segment to both and
# `repo copy` copies the backup, then `restore --time` of the same point runs from each (the
# offsite with --repo offsite). Each restore's base alone (--no-start) separates the replay.
# Alternating, medians.
#
# usage: bench/s3_replay_bench.sh              (pgbench scale 20, ~512 MB of WAL; 3 rounds)
#        WAL_MB=128 ROUNDS=1 bench/s3_replay_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
fixture="$PWD/build/release/tests/rgw_fixture"
scale="${SCALE:-20}"
wal_mb="${WAL_MB:-512}"
rounds="${ROUNDS:-3}"
work="${BENCH_DIR:-$PWD/bench/data/s3-replay}"
port="${PORT:-54990}"
source "$PWD/bench/common.sh"
cleanup() {
  stop_clusters
  [[ -f "$work/rgw/address" ]] && "$fixture" stop "$work/rgw" || true
}
trap cleanup EXIT

[[ -f "$work/rgw/address" ]] && "$fixture" stop "$work/rgw"
rm -rf "$work"
mkdir -p "$work"
chown postgres: "$work"
"$fixture" start "$work/rgw" >/dev/null
mapfile -t rgw < "$work/rgw/address"  # endpoint, access key, secret key, TLS endpoint, CA file
tls="${rgw[3]}"
cp "${rgw[4]}" "$work/ca.pem"
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "${rgw[1]}" "${rgw[2]}" > "$work/aws-credentials"
printf '[default]\nregion = us-east-1\n' > "$work/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials" AWS_CONFIG_FILE="$work/aws-config"
/usr/bin/aws --endpoint-url "$tls" --ca-bundle "$work/ca.pem" s3api create-bucket --bucket offsite >/dev/null
{
  printf '[repository]\npath = "repo"\n'
  lifeboat_settings
  printf '[repository.offsite]\nurl = "s3://offsite/repo"\nendpoint = "%s"\nca_file = "%s"\ncredentials_file = "%s"\n' \
    "$tls" "$work/ca.pem" "$work/aws-credentials"
} > "$work/lifeboat.toml"
"$bin" repo keygen "$work/pass" >/dev/null
chown -R postgres: "$work"
chmod 600 "$work/pass" "$work/aws-credentials"
lb=(runuser -u postgres -- "$bin" -c "$work/lifeboat.toml")

start_pgbench "$(lb_push)"
"${lb[@]}" repo init >/dev/null
"${lb[@]}" repo copy --to offsite >/dev/null  # the offsite becomes the same repository
archiver_idle
"${lb[@]}" backup >/dev/null
"${lb[@]}" repo copy --to offsite >/dev/null

lsn() { psql_q "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }
from=$(lsn)
while (($(lsn) - from < wal_mb * 1000000)); do
  as_pg "$pgbin/pgbench" -n -c 2 -T 10 -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
done
wal_bytes=$(($(lsn) - from))
sleep 1
target=$(psql_q "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 1
psql_q "SELECT txid_current()" >/dev/null
psql_q "SELECT pg_switch_wal()" >/dev/null
archiver_idle
"${lb[@]}" repo copy --to offsite >/dev/null  # anything the pushes queued for it
segments=$(ls "$work/repo/named/wal" | grep -c '^[0-9A-F]\{24\}$')
echo "$((wal_bytes / 1000000)) MB of WAL since the backup ($segments segments); target $target" >&2

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  for repo in primary offsite; do
    drop_caches; t=$(date +%s.%N)
    "${lb[@]}" --repo "$repo" --json restore --time "$target" --instance "r$round" > "$work/lb.json"
    record "total_$repo" "$(since "$t")"
    record "spool_$repo" "$(jq .wal_prefetch.from_spool "$work/lb.json")"
    "${lb[@]}" instance drop "r$round" >/dev/null
    drop_caches; t=$(date +%s.%N)
    "${lb[@]}" --repo "$repo" restore --time "$target" --instance "b$round" --no-start >/dev/null 2>&1
    record "base_$repo" "$(since "$t")"
    "${lb[@]}" instance drop "b$round" >/dev/null
  done
done
medians
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
replay_local=$(sub "${m[total_primary]}" "${m[base_primary]}")
replay_s3=$(sub "${m[total_offsite]}" "${m[base_offsite]}")

cat <<REPORT
$(machine)
store: Ceph $(ceph --version | awk '{print $3}') RGW (one memstore OSD) on loopback over TLS
database: pgbench scale $scale, $((db_bytes / 1048576)) MiB; $((wal_bytes / 1000000)) MB of WAL ($segments segments) to replay; $rounds round(s), medians, page cache dropped before each run

| run | local repository | S3 repository | S3 vs local |
|---|---|---|---|
| restore --time, end to end | ${m[total_primary]} | ${m[total_offsite]} | $(ratio "${m[total_offsite]}" "${m[total_primary]}") |
| the base alone (--no-start) | ${m[base_primary]} | ${m[base_offsite]} | $(ratio "${m[base_offsite]}" "${m[base_primary]}") |
| start, replay and promotion | $replay_local | $replay_s3 | $(ratio "$replay_s3" "$replay_local") |

segments served from the prefetch spool (median): local ${m[spool_primary]}, S3 ${m[spool_offsite]}
REPORT
