#!/usr/bin/env bash
# The whole suite, as `./rwe test [Name]` runs it (the rwe script has started PostgreSQL and exported
# the test connection settings). Test projects are discovered: every tests/*.Tests/*.csproj, Name being
# the part between "RwePortal." and ".Tests". Prints one closing line: "tests: N passed, N failed, N skipped".
# A project that runs no test, a test host that crashes, a test that hangs (no progress for
# RWE_TEST_HANG_TIMEOUT, default 5m) and an error outside the tests (a fixture's cleanup) each fail the run and
# count as a failed test; so do skipped tests.
# Sourcing this file defines the functions without running anything (tests/RwePortal.Cli.Tests uses that).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${RWE_CONFIGURATION:-Release}"
RESULTS="${RWE_TEST_RESULTS:-$ROOT/test-results}"
HANG_TIMEOUT="${RWE_TEST_HANG_TIMEOUT:-5m}"

passed=0 failed=0 skipped=0 status=0

# Prints "Name<TAB>path/to/Project.csproj" for every test project below ROOT/tests, sorted by name.
discover_projects() {
    local root="$1" csproj folder name
    for csproj in "$root"/tests/*.Tests/*.csproj; do
        [ -e "$csproj" ] || continue
        folder="$(basename "$(dirname "$csproj")")"
        name="${folder#RwePortal.}"
        name="${name%.Tests}"
        printf '%s\t%s\n' "$name" "$csproj"
    done | sort
}

# Adds one project's outcome to the totals. RC is dotnet test's exit code, TRX its results file (may be
# missing), LOG its console output. Returns non-zero when the project fails the run.
count_results() {
    local name="$1" rc="$2" trx="$3" log="$4" counters="" total=0 executed=0 p=0 f=0 result=0
    [ -f "$trx" ] && counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    if [ -n "$counters" ]; then
        counter() { sed -E "s/.* $1=\"([0-9]+)\".*/\1/" <<<"$counters"; }
        total=$(counter total) executed=$(counter executed) p=$(counter passed) f=$(counter failed)
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + total - executed))
        [ "$f" -eq 0 ] || result=1
        [ "$total" -eq "$executed" ] || result=1
    fi
    if grep -qE 'Test Run Aborted|test run was aborted' "$log" 2>/dev/null; then
        # The host crashed or was stopped on a hang: the test that was running is counted as failed.
        echo "$name: the test host was aborted (crash or hang)"
        grep -E 'inactivity time|The test running when the crash occurred' -A 1 "$log" | grep -vE '^(--)?[[:space:]]*$' | sed 's/^/  /'
        failed=$((failed + 1))
        result=1
    elif [ -z "$counters" ] && [ "$rc" -ne 0 ]; then
        echo "$name: dotnet test failed (exit $rc) without results; see $log"
        failed=$((failed + 1))
        result=1
    elif [ -n "$counters" ] && [ "$total" -eq 0 ]; then
        echo "$name: no tests ran"
        failed=$((failed + 1))
        result=1
    elif [ "$rc" -ne 0 ] && [ "$result" -eq 0 ]; then
        # Every test passed, yet dotnet test failed: something outside a test (a fixture's cleanup, say) threw.
        echo "$name: dotnet test exited $rc although every test passed; its first error lines:"
        grep -m 2 -E 'Exception|Failure' "$log" | sed -E 's/^(\[xUnit[^]]*\])?[[:space:]]*/  /'
        failed=$((failed + 1))
        result=1
    elif [ "$rc" -ne 0 ]; then
        result=1
    fi
    return "$result"
}

# Runs one test project (already built); extra arguments go to dotnet test (e.g. --filter).
run_project() {
    local name="$1" project="$2" rc
    shift 2
    local dir="$RESULTS/$name"
    local log="$RESULTS/$name.log"
    mkdir -p "$RESULTS"
    rm -rf "${dir:?}"
    echo "== $name tests"
    dotnet test "$project" -c "$CONFIGURATION" --no-build --nologo \
        --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none \
        --logger "console;verbosity=normal" --logger "trx;LogFileName=$name.trx" \
        --results-directory "$dir" "$@" 2>&1 | tee "$log" |
        awk '/Error Message:/ { print; after = 4; next }
             after > 0 && !/Stack Trace:/ { print; after--; next }
             { after = 0 }
             /^[[:space:]]*Failed |^[[:space:]]*(Total tests|Passed|Failed|Skipped):|No test (is available|matches)/'
    # No "|| true" here: with pipefail it would run and reset PIPESTATUS, hiding dotnet test's exit code.
    rc=${PIPESTATUS[0]}
    count_results "$name" "$rc" "$dir/$name.trx" "$log" || status=1
}

# Prints the closing line; returns non-zero when the run failed.
summary() {
    echo
    echo "tests: $passed passed, $failed failed, $skipped skipped"
    if [ "$skipped" -ne 0 ]; then
        echo "skipped tests are not allowed"
        status=1
    fi
    return "$status"
}

fail_early() {
    echo "$1"
    echo
    echo "tests: 0 passed, 1 failed, 0 skipped"
    exit 1
}

main() {
    local filter="${1:-}" name project projects=() selected=()
    cd "$ROOT" || exit 1

    while IFS=$'\t' read -r name project; do
        projects+=("$name")
        [ -z "$filter" ] || [ "$filter" = "$name" ] && selected+=("$name"$'\t'"$project")
    done < <(discover_projects "$ROOT")
    [ "${#selected[@]}" -gt 0 ] || fail_early "no test project named '$filter' (there are: ${projects[*]})"

    echo "== compose file"
    docker-compose --env-file docker/.env.example -f docker/compose.yaml config --quiet ||
        fail_early "docker/compose.yaml is invalid"

    # A discovered project that the solution does not build would only fail later, as "not built".
    local in_solution
    in_solution="$(dotnet sln RwePortal.sln list 2>/dev/null | tr '\\' '/')"
    for entry in "${selected[@]}"; do
        project="${entry#*$'\t'}"
        grep -qxF "${project#"$ROOT"/}" <<<"$in_solution" || fail_early "${project#"$ROOT"/} is not in RwePortal.sln"
    done

    echo "== build ($CONFIGURATION, warnings are errors)"
    local target="RwePortal.sln"
    [ -z "$filter" ] || target="${selected[0]#*$'\t'}"
    dotnet build "$target" -c "$CONFIGURATION" --nologo -v quiet -clp:NoSummary || fail_early "build failed"

    for entry in "${selected[@]}"; do
        run_project "${entry%%$'\t'*}" "${entry#*$'\t'}"
    done
    summary
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
    exit
fi
