#!/usr/bin/env bash
# `validate --catalog` uses the merged catalog: run by ctest (see tests/CMakeLists.txt).
#
#   validate_catalog.sh BINARY HALF_BANDWIDTH_CATALOG
#
# The catalog halves the RTX 4090's memory bandwidth (1008 -> 504 GB/s). Batch-1 decode reads the weights
# once per step: step time = bytes / (bandwidth x eta_bw) + fixed per-step costs (docs/formulas.md). So the
# 4090 decode row's estimate must fall, but by less than half (the fixed costs do not scale), and a row on
# another GPU (the RTX 3090) must not change.
set -u
binary=$1
catalog=$2
workdir=$(mktemp -d "${TMPDIR:-/tmp}/gpuadvise-validate.XXXXXX") || exit 70
trap 'rm -rf "$workdir"' EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}

"$binary" validate --json >"$workdir/builtin.json" || fail "validate --json exited $?"
"$binary" validate --json --catalog "$catalog" >"$workdir/half.json" || fail "validate --json --catalog exited $?"
cmp -s "$workdir/builtin.json" "$workdir/half.json" && fail "--catalog $catalog did not change the output"

# The "estimate" of the row with this id (rows are printed with sorted keys: estimate comes before id).
estimate_of() {
  awk -v id="\"$1\"," '/"estimate":/ { e = $2; sub(/,$/, "", e) } /"id":/ && $2 == id { print e; exit }' "$2"
}

for row in xdai-llama2-4090-7b-f16-tg xdai-llama2-3090-7b-f16-tg; do
  full=$(estimate_of "$row" "$workdir/builtin.json")
  half=$(estimate_of "$row" "$workdir/half.json")
  [ -n "$full" ] && [ -n "$half" ] || fail "no row $row in the output"
  echo "$row: $full with the built-in catalog, $half with $catalog"
  case $row in
    *4090*) awk -v f="$full" -v h="$half" 'BEGIN { exit !(h < f && h > f / 2) }' ||
              fail "$row: expected between half of $full and $full, got $half" ;;
    *) [ "$full" = "$half" ] || fail "$row is not on the RTX 4090 but changed from $full to $half" ;;
  esac
done
echo "ok: validate honours --catalog"
