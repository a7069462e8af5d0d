#!/usr/bin/env bash
# PostgreSQL backup and restore on S3: a single-node Ceph RGW on this machine (started here by the
# tests' rgw_fixture, over TLS), lifeboat against pgBackRest with repo1-type=s3 on the same
# gateway (its best settings: zst level 1, process-max = cores, aes-256-cbc) and against the
# store's own rate (awscli PUT and GET of the same bytes lifeboat stored, 10 requests in flight);
# then repo copy of the whole repository to a second bucket. Alternating, medians.
#
# usage: bench/s3_bench.sh              (pgbench scale 100, about 1.5 GB; 3 rounds)
#        SCALE=10 ROUNDS=1 bench/s3_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
fixture="$PWD/build/release/tests/rgw_fixture"
scale="${SCALE:-100}"
rounds="${ROUNDS:-3}"
work="${BENCH_DIR:-$PWD/bench/data/s3}"
port="${PORT:-54980}"
cores=$(nproc)
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
tls_port="${tls##*:}"
cp "${rgw[4]}" "$work/ca.pem"
cat > "$work/aws-credentials" <<CREDS
[default]
aws_access_key_id = ${rgw[1]}
aws_secret_access_key = ${rgw[2]}
CREDS
printf '[default]\nregion = us-east-1\n' > "$work/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials" AWS_CONFIG_FILE="$work/aws-config"
aws=/usr/bin/aws  # Debian's awscli (scripts/setup), not whatever else is on PATH
s3=("$aws" --endpoint-url "$tls" --ca-bundle "$work/ca.pem")
for b in lifeboat lifeboat-copy pgbackrest raw-bytes; do "${s3[@]}" s3api create-bucket --bucket "$b" >/dev/null; done
empty() { "${s3[@]}" s3 rm --recursive --quiet "s3://$1"; }
bucket_bytes() { "${s3[@]}" s3 ls --recursive --summarize "s3://$1" | awk '/Total Size/ {print $3}'; }

repo_toml() {  # repo_toml BUCKET
  printf '[repository]\nurl = "s3://%s/repo"\nendpoint = "%s"\nca_file = "%s"\ncredentials_file = "%s"\n' \
    "$1" "$tls" "$work/ca.pem" "$work/aws-credentials"
}
{ repo_toml lifeboat; lifeboat_settings; } > "$work/lifeboat.toml"
# The copy's config: the same repository with an empty second bucket as its offsite mirror.
{ cat "$work/lifeboat.toml"; repo_toml lifeboat-copy | sed 's/^\[repository\]/[repository.offsite]/'; } > "$work/copy.toml"
"$bin" repo keygen "$work/pass" >/dev/null
cat > "$work/pgbackrest.conf" <<CONF
[global]
repo1-type=s3
repo1-path=/pgbr
repo1-s3-bucket=pgbackrest
repo1-s3-endpoint=localhost
repo1-storage-port=$tls_port
repo1-storage-ca-file=$work/ca.pem
repo1-s3-uri-style=path
repo1-s3-region=us-east-1
repo1-s3-key=${rgw[1]}
repo1-s3-key-secret=${rgw[2]}
CONF
pgbackrest_settings >> "$work/pgbackrest.conf"
mkdir -p "$work/pgbr-log" "$work/pgbr-lock" "$work/pgbr-spool"
chown -R postgres: "$work"
chmod 600 "$work/pass" "$work/aws-credentials" "$work/pgbackrest.conf"
lb=(runuser -u postgres -- "$bin" -c "$work/lifeboat.toml")
br=(runuser -u postgres -- pgbackrest --config="$work/pgbackrest.conf" --stanza=bench)

start_pgbench "$(lb_push) && $(br_push)"

for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  # Fresh repositories each round: a full backup into an empty repository, for both tools.
  empty lifeboat; empty pgbackrest
  "${lb[@]}" repo init >/dev/null
  "${br[@]}" stanza-create >/dev/null
  rm -rf "$work/instances" "$work/.lifeboat" "$work"/restore-*

  archive_first lifeboat; archiver_idle
  drop_caches; r=$(measure "${lb[@]}" --json backup); record lb_backup "${r%% *}"; record lb_rss "${r##* }"
  id=$(jq -r .id "$work/cmd.out"); lb_backup_requests=$(jq .storage.requests "$work/cmd.out")
  lb_backup_retries=$(jq .storage.retries "$work/cmd.out")
  archive_first pgbackrest; archiver_idle
  drop_caches; r=$(measure "${br[@]}" backup --type=full); record br_backup "${r%% *}"; record br_rss "${r##* }"

  # The store's own rate on the bytes lifeboat's backup stored (its packs, indexes, snapshot).
  rm -rf "$work/objects" "$work/got"
  "${s3[@]}" s3 cp --recursive --quiet --exclude 'named/*' --exclude 'locks/*' "s3://lifeboat/repo" "$work/objects"
  stored=$(du -sb "$work/objects" | cut -f1)
  drop_caches; r=$(measure "${s3[@]}" s3 cp --recursive --quiet "$work/objects" s3://raw-bytes/); record aws_put "${r%% *}"
  drop_caches; r=$(measure bash -c "${s3[*]@Q} s3 cp --recursive --quiet s3://raw-bytes/ '$work/got' && sync")
  record aws_get "${r%% *}"
  rm -rf "$work/objects" "$work/got"; empty raw-bytes

  drop_caches; r=$(measure "${lb[@]}" --json restore --snapshot "$id" --instance "r$round" --no-start)
  record lb_restore "${r%% *}"; record lb_restore_rss "${r##* }"
  lb_restore_requests=$(jq .storage.requests "$work/cmd.out")
  drop_caches; mkdir -p "$work/restore-$round"; chown postgres: "$work/restore-$round"
  r=$(measure "${br[@]}" restore --pg1-path="$work/restore-$round" --type=immediate); record br_restore "${r%% *}"
  rm -rf "$work/restore-$round" "$work/instances"

  # The whole repository (snapshot, WAL, keys, config) into an empty bucket.
  empty lifeboat-copy
  r=$(measure runuser -u postgres -- "$bin" -c "$work/copy.toml" --json repo copy --to offsite); record copy "${r%% *}"
  record copy_mbs "$(jq .mb_per_second "$work/cmd.out")"; copy_bytes=$(jq .bytes "$work/cmd.out")
  copy_objects=$(jq .copied "$work/cmd.out")
done
lb_repo=$(bucket_bytes lifeboat); br_repo=$(bucket_bytes pgbackrest)
medians

cat <<REPORT
$(machine)
store: Ceph $(ceph --version | awk '{print $3}') RGW (one memstore OSD) on loopback over TLS; awscli $("$aws" --version 2>&1 | awk '{print $1}' | cut -d/ -f2)
database: pgbench scale $scale, $((db_bytes / 1048576)) MiB on disk; $rounds round(s), medians, page cache dropped before each run

| run | seconds | MB/s | vs pgBackRest |
|---|---|---|---|
| pgBackRest full backup to S3 | ${m[br_backup]} | $(rate "${m[br_backup]}") | 1.00 |
| lifeboat full backup to S3 | ${m[lb_backup]} | $(rate "${m[lb_backup]}") | $(ratio "${m[lb_backup]}" "${m[br_backup]}") |
| pgBackRest restore from S3 | ${m[br_restore]} | $(rate "${m[br_restore]}") | 1.00 |
| lifeboat restore --no-start from S3 | ${m[lb_restore]} | $(rate "${m[lb_restore]}") | $(ratio "${m[lb_restore]}" "${m[br_restore]}") |

the store's rate on lifeboat's $((stored / 1048576)) MiB of stored backup (awscli, 10 requests in flight):
| run | seconds | MB/s of stored bytes | lifeboat's share of the store's rate |
|---|---|---|---|
| awscli PUT | ${m[aws_put]} | $(rate "${m[aws_put]}" "$stored") | backup: $(ratio "${m[aws_put]}" "${m[lb_backup]}") |
| awscli GET | ${m[aws_get]} | $(rate "${m[aws_get]}" "$stored") | restore: $(ratio "${m[aws_get]}" "${m[lb_restore]}") |
| lifeboat backup | ${m[lb_backup]} | $(rate "${m[lb_backup]}" "$stored") | |
| lifeboat restore | ${m[lb_restore]} | $(rate "${m[lb_restore]}" "$stored") | |

repo copy of the whole repository ($copy_objects objects, $((copy_bytes / 1048576)) MiB) to a second bucket: ${m[copy]} s, ${m[copy_mbs]} MB/s
requests: lifeboat backup $lb_backup_requests ($lb_backup_retries retries), restore $lb_restore_requests (last round)
peak RSS: lifeboat backup $((${m[lb_rss]%.*} / 1024)) MiB, restore $((${m[lb_restore_rss]%.*} / 1024)) MiB; pgBackRest backup $((${m[br_rss]%.*} / 1024)) MiB
repository size: lifeboat $((lb_repo / 1048576)) MiB, pgBackRest $((br_repo / 1048576)) MiB
REPORT
