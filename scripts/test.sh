#!/usr/bin/env bash
# The whole suite, as `./rwe test` runs it (the rwe script has started PostgreSQL and exported
# the test connection settings). Prints one closing line: "N passed, N failed, N skipped".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${RWE_CONFIGURATION:-Release}"
RESULTS="$ROOT/test-results"
FILTER="${1:-}"
mkdir -p "$RESULTS"
cd "$ROOT"

echo "== compose file"
docker-compose --env-file docker/.env.example -f docker/compose.yaml config --quiet || { echo "docker/compose.yaml is invalid"; echo "0 passed, 1 failed"; exit 1; }

echo "== build ($CONFIGURATION, warnings are errors)"
if [ -n "$FILTER" ]; then
    build_target="tests/RwePortal.$FILTER.Tests"
else
    build_target="RwePortal.sln"
fi
if ! dotnet build "$build_target" -c "$CONFIGURATION" --nologo -v quiet -clp:NoSummary; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0 skipped=0 status=0
for project in Analytics Warehouse Application Web E2E; do
    path="tests/RwePortal.$project.Tests"
    [ -d "$path" ] || continue
    [ -z "$FILTER" ] || [ "$FILTER" = "$project" ] || continue
    echo "== $project tests"
    log="$RESULTS/$project.log"
    rm -rf "${RESULTS:?}/$project"
    dotnet test "$path" -c "$CONFIGURATION" --no-build --nologo \
        --logger "console;verbosity=normal" --logger "trx;LogFileName=$project.trx" \
        --results-directory "$RESULTS/$project" 2>&1 | tee "$log" |
        grep -E '^\s*Failed |Error Message|^\s*(Total tests|Passed|Failed|Skipped):'
    # No "|| true" here: with pipefail it would run and reset PIPESTATUS, hiding dotnet test's exit code.
    rc=${PIPESTATUS[0]}
    counters=$(grep -o '<Counters [^>]*>' "$RESULTS/$project/$project.trx" 2>/dev/null | head -n 1)
    if [ -n "$counters" ]; then
        count() { sed -E "s/.* $1=\"([0-9]+)\".*/\1/" <<<"$counters"; }
        p=$(count passed) f=$(count failed) total=$(count total) executed=$(count executed)
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + total - executed))
        [ "$f" -eq 0 ] || rc=1
    elif [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
    fi
    [ "$rc" -eq 0 ] || status=1
done

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$skipped" -ne 0 ]; then
    echo "skipped tests are not allowed"
    status=1
fi
exit $status
