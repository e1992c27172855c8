#!/usr/bin/env bash
# fuzz/smoke.sh FUZZER CORPUS SECONDS ARTIFACTS [DICT]
# Runs a libFuzzer target for SECONDS over a scratch copy of the committed CORPUS (so CI never
# writes into the repo). A finding fails the test; its input is kept in ARTIFACTS (in the build
# tree) and printed in hex, so `FUZZER ARTIFACTS/crash-...` reproduces it.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3 artifacts=$4 dict=${5:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/vidup-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/found" "$artifacts"
if [ -d "$corpus" ]; then
  cp -R "$corpus/." "$work/corpus/"
fi

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$work/found/")
if [ -n "$dict" ]; then
  args+=(-dict="$dict")
fi

echo "smoke: $(basename "$fuzzer") ${args[*]} <scratch copy of $corpus ($(ls "$work/corpus" | wc -l) files)>"
status=0
"$fuzzer" "${args[@]}" "$work/corpus" || status=$?
if [ "$status" -ne 0 ]; then
  for f in "$work"/found/*; do
    [ -e "$f" ] || continue
    cp "$f" "$artifacts/"
    echo "smoke: finding kept as $artifacts/$(basename "$f"):"
    od -A d -t x1z -v "$f" | head -40
  done
  echo "smoke: $(basename "$fuzzer") FAILED (exit $status)"
  exit "$status"
fi
echo "smoke: $(basename "$fuzzer") ran ${seconds}s with no finding"
