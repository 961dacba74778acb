#!/usr/bin/env bash
# Golden-output check, run by ctest from the source directory (tests/CMakeLists.txt):
#   run_golden.sh NAME BINARY ARGS...
# Compares the binary's stdout with tests/golden/NAME.out. A change in output is a reviewed change:
# regenerate with GPUADVISE_UPDATE_GOLDEN=1 ctest -R golden, and read the diff before committing.
set -u
name=$1
shift
golden="tests/golden/$name.out"
actual=$(mktemp "${TMPDIR:-/tmp}/gpuadvise-golden.XXXXXX") || exit 70
trap 'rm -f "$actual"' EXIT
NO_COLOR=1 "$@" >"$actual" 2>/dev/null </dev/null
status=$?
echo "exit $status" >>"$actual"
if [ "${GPUADVISE_UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$actual" "$golden"
  echo "updated $golden"
  exit 0
fi
if [ ! -f "$golden" ]; then
  echo "FAIL: no golden file $golden (run with GPUADVISE_UPDATE_GOLDEN=1)"
  exit 1
fi
if ! diff -u "$golden" "$actual"; then
  echo "FAIL: output of '$*' differs from $golden"
  exit 1
fi
