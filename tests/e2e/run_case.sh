#!/usr/bin/env bash
# End-to-end check of the gpuadvise binary, run by ctest (see tests/CMakeLists.txt).
#
#   run_case.sh EXPECTED_EXIT PATTERN BINARY [ARGS...]
#
# Runs BINARY ARGS, then checks that
#   - the exit status is EXPECTED_EXIT;
#   - PATTERN (an extended regular expression; "-" for none) occurs in stdout or stderr;
#   - when EXPECTED_EXIT is 2 (a user error), stdout is empty and stderr is exactly one line,
#     starting with "gpuadvise: error:".
# Prints what it saw and exits 1 on any mismatch.
set -u

if [ "$#" -lt 3 ]; then
  echo "usage: $0 EXPECTED_EXIT PATTERN BINARY [ARGS...]" >&2
  exit 64
fi
expected=$1
pattern=$2
shift 2

workdir=$(mktemp -d "${TMPDIR:-/tmp}/gpuadvise-e2e.XXXXXX") || exit 70
trap 'rm -rf "$workdir"' EXIT
out="$workdir/stdout"
err="$workdir/stderr"

# Never colour, whatever the environment says.
NO_COLOR=1 "$@" >"$out" 2>"$err" </dev/null
status=$?

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

if [ "$status" -ne "$expected" ]; then
  fail "exit status $status, expected $expected"
fi

if [ "$pattern" != "-" ]; then
  if ! grep -E -q -e "$pattern" "$out" "$err"; then
    fail "neither stdout nor stderr matches /$pattern/"
  fi
fi

if [ "$expected" -eq 2 ]; then
  # A user error prints no partial report.
  if [ -s "$out" ]; then
    fail "stdout is not empty"
  fi
  # wc -l counts newlines; a last line without one still counts as a line.
  lines=$(wc -l <"$err" | tr -d ' ')
  if [ -s "$err" ] && [ -n "$(tail -c 1 "$err")" ]; then lines=$((lines + 1)); fi
  if [ "$lines" -ne 1 ]; then
    fail "stderr has $lines lines, expected exactly 1"
  fi
  error_lines=$(grep -c '^gpuadvise: error:' "$err")
  if [ "$error_lines" -ne 1 ]; then
    fail "stderr has $error_lines lines starting with 'gpuadvise: error:', expected exactly 1"
  fi
fi

if [ "$failed" -ne 0 ]; then
  echo "command: $*"
  echo "--- stdout (first 40 lines) ---"
  head -n 40 "$out"
  echo "--- stderr ---"
  cat "$err"
  exit 1
fi
echo "ok: exit $status${pattern:+, /$pattern/}: $*"
exit 0
