#!/usr/bin/env bash
# Runs every fuzz target of a GPUADVISE_FUZZ build for RUNS executions each (docs/hardening.md).
#   tests/fuzz/run.sh BUILD_DIR [RUNS] [TARGET...]
# Seeds come from tests/fuzz/corpus/<target>/ (read only); new inputs go to a scratch corpus under
# $FUZZ_WORK (default: a temporary directory). Prints each target's final "Done N runs" line and
# exits non-zero at the first crash, leak, timeout or trap, leaving the reproducer in the work dir.
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [RUNS] [TARGET...]}" && pwd)
runs=${2:-20000}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(units precision gpu_catalog model_catalog hf_config check calibration validation advise safetensors gguf)
fi
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gpuadvise-fuzz.XXXXXX")}
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  if ! (cd "$work/$t" && "$build/tests/fuzz/fuzz_$t" -runs="$runs" -max_len=4096 -timeout=5 -rss_limit_mb=4096 \
          -print_final_stats=1 "$work/$t" "$here/corpus/$t" >"$log" 2>&1); then
    echo "fuzz_$t: FAILED (log: $log, reproducer in $work/$t)"
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -20 || true
    exit 1
  fi
  echo "fuzz_$t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1)"
done
