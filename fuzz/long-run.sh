#!/usr/bin/env bash
# fuzz/long-run.sh TARGET [SECONDS] [BUILD]
# The long run the issue asks for: TARGET (fuzz_metadata, ...) from BUILD (default build-fuzz;
# relative to the repo, or absolute)
# for SECONDS (default 600) under `nice -n 10` with -jobs=1, over a scratch corpus seeded with
# the committed one; then `-merge=1` minimizes committed + grown into fuzz/corpus/TARGET.
# Prints libFuzzer's final stats line and the numbers fuzz/README.md records. A finding stops
# the run with a non-zero exit; its input is in $WORK/found/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=$1 seconds=${2:-600} build=${3:-build-fuzz}
case $build in
  /*) fuzzer=$build/fuzz/$target ;;  # e.g. a build of a clean snapshot of HEAD
  *) fuzzer=$repo/$build/fuzz/$target ;;
esac
corpus=$repo/fuzz/corpus/$target
dict=$repo/fuzz/dict/${target#fuzz_}.dict
work=${WORK:-/tmp/vidup-fuzz-long/$target}

rm -rf "$work"
mkdir -p "$work/grown" "$work/found" "$work/merged"
args=(-max_total_time="$seconds" -jobs=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/found/")
if [ -f "$dict" ]; then
  args+=(-dict="$dict")
fi
cd "$work"
echo "long-run: nice -n 10 $build/fuzz/$target ${args[*]} grown/ fuzz/corpus/$target/"
start=$(date +%s)
status=0
nice -n 10 "$fuzzer" "${args[@]}" grown/ "$corpus/" >run.log 2>&1 || status=$?
end=$(date +%s)
cat fuzz-0.log >>run.log 2>/dev/null || true
if [ "$status" -ne 0 ] || ls found/* >/dev/null 2>&1; then
  grep -E "FUZZ_CHECK|ERROR|SUMMARY|runtime error" run.log | head -20
  echo "long-run: $target FOUND something (exit $status), see $work"
  exit 1
fi
done_line=$(grep -E "DONE +cov" run.log | tail -1)
execs=$(grep -E "^stat::number_of_executed_units" run.log | tail -1 | awk '{print $2}')
eps=$(grep -E "^stat::average_exec_per_sec" run.log | tail -1 | awk '{print $2}')
echo "long-run: $done_line"
echo "long-run: seconds=$((end - start)) executions=$execs exec_per_s=$eps grown_files=$(ls grown | wc -l)"

# Minimize committed + grown into a fresh directory, then replace the committed corpus with it.
# When that keeps more than 300 files, merge again with -use_counters=0: only the files that add
# coverage edges (not every hit-count feature), the same edge coverage in a few hundred files.
nice -n 10 "$fuzzer" -merge=1 merged/ "$corpus/" grown/ >merge.log 2>&1
if [ "$(ls merged | wc -l)" -gt 300 ]; then
  rm -rf merged && mkdir merged
  nice -n 10 "$fuzzer" -merge=1 -use_counters=0 merged/ "$corpus/" grown/ >merge.log 2>&1
fi
rm -rf "$corpus"
mkdir -p "$corpus"
cp merged/* "$corpus/"
echo "long-run: merged corpus $(ls "$corpus" | wc -l) files, $(cat "$corpus"/* | wc -c) bytes; $(grep -E "MERGE-OUTER: [0-9]+ new files" merge.log | tail -1)"
