#!/usr/bin/env bash
#===- scripts/test.sh - build and run every test -------------------------===#
#
# Builds ringc, then runs the lit suite (IR, driver, codegen and execution
# tests) and every other ctest test (GoogleTest unit tests, MPI runtime
# tests). Ends with one line "N passed, N failed[, N skipped]".
#
#===----------------------------------------------------------------------===#
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RINGC_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== lit suite"
/usr/lib/llvm-22/bin/lit -sv --timeout=600 "$build/test" 2>&1 | tee "$log"
lit_rc=${PIPESTATUS[0]}
# count LABEL: the number lit printed in its summary for LABEL, or 0.
count() {
  local n
  n=$(grep -E "^ +$1 *: +[0-9]+" "$log" | sed -E 's/.*: +([0-9]+).*/\1/' | tail -1)
  echo "${n:-0}"
}
passed=$(( $(count Passed) + $(count 'Expectedly Failed') ))
failed=$(( $(count Failed) + $(count 'Unexpectedly Passed') + $(count 'Timed Out') ))
skipped=$(count Unsupported)
[ $lit_rc -ne 0 ] && [ $failed -eq 0 ] && failed=1

echo "== ctest (unit and MPI tests)"
(cd "$build" && ctest --output-on-failure -E '^lit$' --timeout 600) 2>&1 | tee "$log"
ctest_rc=${PIPESTATUS[0]}
line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$log" | tail -1)
if [ -n "$line" ]; then
  total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
  cfailed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed.*/\1/')
  passed=$(( passed + total - cfailed ))
  failed=$(( failed + cfailed ))
elif ! grep -q "No tests were found" "$log"; then
  failed=$(( failed + 1 ))
fi
[ $ctest_rc -ne 0 ] && [ -z "$line" ] && failed=$(( failed + 1 ))

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
