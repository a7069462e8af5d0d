#!/usr/bin/env bash
# Files backup benchmark: lifeboat against the machine's limits on the same tree, same run.
#   tar | zstd -1 -T0   (read + compress, the rate to reach)
#   cp -a + sync        (the write limit)
#   lifeboat: first backup, unchanged second backup, backup after 1% of files changed, restore
# Each measurement is repeated ROUNDS times, alternating tools; medians are reported.
#
# usage: bench/files_bench.sh            (2 GiB tree, 3 rounds)
#        SIZE_MIB=512 ROUNDS=1 bench/files_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/build/release/src/cli/lifeboat"
size_mib="${SIZE_MIB:-2048}"
rounds="${ROUNDS:-3}"
work="${BENCH_DIR:-$PWD/bench/data}"
tree="$work/tree"

mkdir -p "$work"
source "$PWD/bench/common.sh"
if [[ ! -f "$work/tree.$size_mib" ]]; then
  rm -rf "$tree" "$work"/tree.*
  echo "generating a ${size_mib} MiB tree in $tree" >&2
  python3 bench/gen_tree.py "$tree" "$size_mib"
  touch "$work/tree.$size_mib"
fi
bytes=$(du -sb "$tree" | cut -f1)
export LIFEBOAT_PASSPHRASE=bench




for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2

  drop_caches
  rm -f "$work/tar.zst"
  r=$(measure bash -c "tar -C '$tree' -cf - . | zstd -1 -T0 -q -o '$work/tar.zst' && sync")
  record tar_zstd "${r%% *}"

  drop_caches
  rm -rf "$work/cp"
  r=$(measure bash -c "cp -a '$tree' '$work/cp' && sync")
  record cp_sync "${r%% *}"
  rm -rf "$work/cp"

  rm -rf "$work/repo" "$work/restore"
  printf '[repository]\npath = "repo"\n' > "$work/lifeboat.toml"
  "$bin" -c "$work/lifeboat.toml" repo init >/dev/null
  drop_caches
  r=$(measure "$bin" -c "$work/lifeboat.toml" files backup --name bench "$tree")
  record first "${r%% *}"; record first_rss "${r##* }"
  drop_caches
  r=$(measure "$bin" -c "$work/lifeboat.toml" files backup --name bench "$tree")
  record second "${r%% *}"
  # 1% of the files change (appended to, so their mtime and size change).
  find "$tree" -type f | sort | awk 'NR % 100 == 0' | while read -r f; do echo "changed $round" >> "$f"; done
  drop_caches
  r=$(measure "$bin" -c "$work/lifeboat.toml" files backup --name bench "$tree")
  record changed "${r%% *}"
  drop_caches
  r=$(measure "$bin" -c "$work/lifeboat.toml" files restore latest "$work/restore")
  record restore "${r%% *}"; record restore_rss "${r##* }"
  stored=$(du -sb "$work/repo" | cut -f1)
done

rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }'; }

declare -A med
for k in "${!results[@]}"; do med[$k]=$(echo "${results[$k]}" | median); done

cat <<REPORT
machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
tree: $((bytes / 1048576)) MiB (half text, half random), $rounds round(s), medians; repository $((stored / 1048576)) MiB

| run | seconds | MB/s | vs tar\|zstd |
|---|---|---|---|
| tar \| zstd -1 -T0 (+ sync) | ${med[tar_zstd]} | $(rate "${med[tar_zstd]}") | 1.00 |
| cp -a + sync | ${med[cp_sync]} | $(rate "${med[cp_sync]}") | $(awk -v a="${med[tar_zstd]}" -v b="${med[cp_sync]}" 'BEGIN{printf "%.2f", a/b}') |
| lifeboat first backup | ${med[first]} | $(rate "${med[first]}") | $(awk -v a="${med[tar_zstd]}" -v b="${med[first]}" 'BEGIN{printf "%.2f", a/b}') |
| lifeboat unchanged second backup | ${med[second]} | $(rate "${med[second]}") | $(awk -v a="${med[tar_zstd]}" -v b="${med[second]}" 'BEGIN{printf "%.2f", a/b}') |
| lifeboat backup after 1% changed | ${med[changed]} | $(rate "${med[changed]}") | $(awk -v a="${med[tar_zstd]}" -v b="${med[changed]}" 'BEGIN{printf "%.2f", a/b}') |
| lifeboat restore (fsync'd) | ${med[restore]} | $(rate "${med[restore]}") | $(awk -v a="${med[tar_zstd]}" -v b="${med[restore]}" 'BEGIN{printf "%.2f", a/b}') |

peak RSS: first backup $((${med[first_rss]%.*} / 1024)) MiB, restore $((${med[restore_rss]%.*} / 1024)) MiB
second backup vs first: $(awk -v a="${med[first]}" -v b="${med[second]}" 'BEGIN{printf "%.1fx faster", a/b}')
REPORT
rm -rf "$work/repo" "$work/restore" "$work/tar.zst"
