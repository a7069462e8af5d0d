# Helpers shared by the benchmarks; source after setting $work (a scratch directory), and for
# the PostgreSQL ones $port and $scale.

pgbin=/usr/lib/postgresql/15/bin
as_pg() { runuser -u postgres -- "$@"; }

# Empties the page cache so each run reads from the disk (needs root; a no-op otherwise).
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

# Runs "$@" with its output in $work/cmd.out and $work/cmd.err; prints "seconds peak_rss_kib".
measure() {
  /usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >"$work/cmd.out" 2>"$work/cmd.err" \
    || { cat "$work/cmd.err" >&2; return 1; }
  tail -1 "$work/time.out"
}

# record NAME VALUE: appends a measurement; median < "v1 v2 ...": the median.
declare -A results
record() { results[$1]+="$2 "; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# medians: m[NAME] = the median of every recorded NAME.
declare -A m
medians() { local k; for k in "${!results[@]}"; do m[$k]=$(echo "${results[$k]}" | median); done; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# rate SECONDS [BYTES]: MB/s of BYTES (default $db_bytes) moved in SECONDS.
rate() { awk -v b="${2:-$db_bytes}" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
machine() {
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}

psql_q() { as_pg "$pgbin/psql" -qAtX -h "$work" -p "$port" -U postgres -c "$1"; }
# archive_with COMMAND: the cluster's archive_command from now on.
archive_with() {
  psql_q "ALTER SYSTEM SET archive_command = '$1'" >/dev/null
  psql_q "SELECT pg_reload_conf()" >/dev/null
}
archiver_idle() {
  while compgen -G "$work/main/pg_wal/archive_status/*.ready" >/dev/null; do sleep 0.1; done
}
# start_pgbench ARCHIVE_COMMAND: a cluster in $work/main on $port, archiving, with a pgbench
# database of $scale; sets db_bytes (the cluster without pg_wal, which no backup tool copies:
# pgbench -i leaves a gigabyte there).
start_pgbench() {
  as_pg "$pgbin/initdb" -D "$work/main" -N -A trust -U postgres >/dev/null
  cat >> "$work/main/postgresql.auto.conf" <<CONF
port = $port
unix_socket_directories = '$work'
listen_addresses = ''
archive_mode = on
archive_command = '$1'
max_wal_size = 4GB
CONF
  as_pg "$pgbin/pg_ctl" start -D "$work/main" -l "$work/main.log" -w -s
  echo "pgbench scale $scale" >&2
  as_pg "$pgbin/pgbench" -i -q -s "$scale" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
  db_bytes=$(du -sb --exclude=pg_wal "$work/main" | cut -f1)
}
# Stops every cluster under $work (the benchmark's own, by their data directories' pid files).
stop_clusters() {
  local d
  for d in "$work"/restore-* "$work/main" "$work"/instances/*/data; do
    [[ -f "$d/postmaster.pid" ]] && as_pg "$pgbin/pg_ctl" stop -D "$d" -m immediate -s || true
  done
}

# pgBackRest's settings after [global]'s repository lines: its best for this machine (zst level
# 1, process-max = cores, aes-256-cbc), its directories under $work, and the stanza "bench".
pgbackrest_settings() {
  cat <<CONF
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=bench-passphrase
compress-type=zst
compress-level=1
process-max=$(nproc)
start-fast=y
log-level-console=warn
lock-path=$work/pgbr-lock
log-path=$work/pgbr-log
spool-path=$work/pgbr-spool

[bench]
pg1-path=$work/main
pg1-port=$port
pg1-socket-path=$work
CONF
}

# lifeboat's config after its [repository] lines: the key file, the cluster, the instances.
lifeboat_settings() {
  cat <<TOML
passphrase_file = "pass"
[database]
data_dir = "$work/main"
host = "$work"
port = $port
[instances]
dir = "$work/instances"
ports = "$((port + 1))-$((port + 9))"
TOML
}

# Both tools archive every segment, through one archive_command ($bin and $work set):
# archive_first TOOL (lifeboat | pgbackrest) puts TOOL's push first, so that the tool whose
# backup is measured archives first and finds its WAL as soon as PostgreSQL has it.
lb_push() { echo "$bin -c $work/lifeboat.toml wal push %p"; }
br_push() { echo "pgbackrest --config=$work/pgbackrest.conf --stanza=bench archive-push %p"; }
archive_first() {
  if [[ $1 == pgbackrest ]]; then archive_with "$(br_push) && $(lb_push)"; else archive_with "$(lb_push) && $(br_push)"; fi
}
