# Helpers shared by the benchmarks; source after setting $work (a scratch directory).

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
