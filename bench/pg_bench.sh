#!/usr/bin/env bash
# PostgreSQL backup and restore: lifeboat against pgBackRest (its best settings: zst level 1,
# process-max = cores, aes-256-cbc), pg_basebackup, and the machine's limits (tar | cat for
# reading, cp -a + sync for writing), on one pgbench database, alternating, medians.
#
# usage: bench/pg_bench.sh              (pgbench scale 100, about 1.5 GB; 3 rounds)
#        SCALE=10 ROUNDS=1 bench/pg_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
scale="${SCALE:-100}"
rounds="${ROUNDS:-3}"
work="${BENCH_DIR:-$PWD/bench/data/pg}"
port="${PORT:-54990}"
cores=$(nproc)
source "$PWD/bench/common.sh"
trap stop_clusters EXIT

rm -rf "$work"
mkdir -p "$work"
chown postgres: "$work"
{ printf '[repository]\npath = "repo"\n'; lifeboat_settings; } > "$work/lifeboat.toml"
# A generated key, as unattended archiving should use: no key stretching on either side
# (pgBackRest derives its cipher key from repo1-cipher-pass with one hash round).
"$bin" repo keygen "$work/pass" >/dev/null
cat > "$work/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/pgbr
CONF
pgbackrest_settings >> "$work/pgbackrest.conf"
chown -R postgres: "$work"
chmod 600 "$work/pass"
br=(runuser -u postgres -- pgbackrest --config="$work/pgbackrest.conf" --stanza=bench)
mkdir -p "$work/pgbr-log" "$work/pgbr-lock" "$work/pgbr-spool"
chown -R postgres: "$work"

# Each backup starts with the archiver idle, as on a cluster whose archiving keeps up.
start_pgbench "$(lb_push) && $(br_push)"


for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  # Fresh repositories each round: a full backup into an empty repository, for both tools.
  rm -rf "$work/repo" "$work/pgbr" "$work/instances" "$work/.lifeboat" "$work"/restore-*
  as_pg "$bin" -c "$work/lifeboat.toml" repo init >/dev/null
  "${br[@]}" stanza-create >/dev/null

  drop_caches; r=$(measure bash -c "tar -C '$work/main' --exclude=./pg_wal -cf - . | cat > /dev/null"); record tar "${r%% *}"
  drop_caches; rm -rf "$work/cp"
  r=$(measure bash -c "mkdir '$work/cp' && find '$work/main' -mindepth 1 -maxdepth 1 ! -name pg_wal -exec cp -a -t '$work/cp/' {} + && sync"); record cp "${r%% *}"; rm -rf "$work/cp"

  archive_first lifeboat; archiver_idle
  drop_caches; r=$(measure "$bin" -c "$work/lifeboat.toml" backup); record lb_backup "${r%% *}"; record lb_rss "${r##* }"
  id=$(head -1 "$work/cmd.out")
  archive_first pgbackrest; archiver_idle
  drop_caches; r=$(measure "${br[@]}" backup --type=full); record br_backup "${r%% *}"; record br_rss "${r##* }"
  # 1% of the rows change (a contiguous range of pgbench_accounts), then incremental backups.
  as_pg "$pgbin/psql" -qh "$work" -p "$port" -U postgres -c \
    "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= $((scale * 1000)); CHECKPOINT" >/dev/null
  archive_first lifeboat; archiver_idle
  drop_caches; r=$(measure "$bin" -c "$work/lifeboat.toml" backup --type incremental); record lb_incr "${r%% *}"
  incr_line=$(grep '^incremental:' "$work/cmd.err" || true)
  archive_first pgbackrest; archiver_idle
  drop_caches; r=$(measure "${br[@]}" backup --type=incr); record br_incr "${r%% *}"
  drop_caches; rm -rf "$work/basebackup"
  r=$(measure runuser -u postgres -- "$pgbin/pg_basebackup" -D "$work/basebackup" -h "$work" -p "$port" -U postgres -c fast -X none)
  record basebackup "${r%% *}"; rm -rf "$work/basebackup"

  drop_caches; r=$(measure "$bin" -c "$work/lifeboat.toml" restore --snapshot "$id" --instance "r$round" --no-start)
  record lb_restore "${r%% *}"
  drop_caches; mkdir -p "$work/restore-$round"; chown postgres: "$work/restore-$round"
  r=$(measure "${br[@]}" restore --pg1-path="$work/restore-$round" --type=immediate); record br_restore "${r%% *}"
  rm -rf "$work/restore-$round" "$work/instances"
done
lb_repo=$(du -sb "$work/repo" | cut -f1); br_repo=$(du -sb "$work/pgbr" | cut -f1)

medians

cat <<REPORT
$(machine)
database: pgbench scale $scale, $((db_bytes / 1048576)) MiB on disk; $rounds round(s), medians, page cache dropped before each run

| run | seconds | MB/s | vs pgBackRest |
|---|---|---|---|
| tar \| cat (read limit) | ${m[tar]} | $(rate "${m[tar]}") | |
| cp -a + sync (write limit) | ${m[cp]} | $(rate "${m[cp]}") | |
| pg_basebackup (plain, no compression, no encryption) | ${m[basebackup]} | $(rate "${m[basebackup]}") | |
| pgBackRest full backup | ${m[br_backup]} | $(rate "${m[br_backup]}") | 1.00 |
| lifeboat full backup | ${m[lb_backup]} | $(rate "${m[lb_backup]}") | $(ratio "${m[lb_backup]}" "${m[br_backup]}") |
| pgBackRest incremental after 1% of rows changed | ${m[br_incr]} | | $(ratio "${m[br_incr]}" "${m[br_backup]}") of its full |
| lifeboat incremental after 1% of rows changed | ${m[lb_incr]} | | $(ratio "${m[lb_incr]}" "${m[lb_backup]}") of its full |
| pgBackRest restore | ${m[br_restore]} | $(rate "${m[br_restore]}") | 1.00 |
| lifeboat restore --no-start | ${m[lb_restore]} | $(rate "${m[lb_restore]}") | $(ratio "${m[lb_restore]}" "${m[br_restore]}") |

peak RSS: lifeboat backup $((${m[lb_rss]%.*} / 1024)) MiB, pgBackRest backup $((${m[br_rss]%.*} / 1024)) MiB
repository size: lifeboat $((lb_repo / 1048576)) MiB, pgBackRest $((br_repo / 1048576)) MiB
lifeboat's last $incr_line
REPORT
