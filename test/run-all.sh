#!/usr/bin/env bash
# Runs every test suite of user_mgmt against ONE throwaway PostgreSQL 15
# cluster and prints one closing line `N passed, M failed`.
#
#   bash test/run-all.sh            (as root; what .ci/run calls)
#
# Env: FUZZ_SECONDS (default 10), UM_SUITE_TIMEOUT (seconds per suite,
# default 900), UM_SKIP_DEPS=1 / UM_SKIP_BUILD=1 to skip those steps locally.
#
# Suites, each run even if an earlier one failed; each prints TAP:
#   1. bash test/unit/run.sh          C unit tests (ASan/UBSan)
#   2. bash test/fuzz/run.sh          libFuzzer smoke
#   3. make installcheck              pg_regress, converted to TAP here
#   4. test/python/test_*.py          via /usr/bin/python3
#   5. test/suites/*.sh               any further TAP suite, via bash
# Counting: every `ok` / `not ok` TAP line (`not ok ... # TODO` counts as
# passed).  A suite that exits non-zero without a `not ok` line, that is
# missing, or that prints no test at all, counts as one extra failure.
# shellcheck source-path=SCRIPTDIR/..
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
SUITE_TIMEOUT="${UM_SUITE_TIMEOUT:-900}"
PYTHON=/usr/bin/python3

# shellcheck source=scripts/lib/deps.sh
source "$REPO/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$REPO/scripts/lib/cluster.sh"

PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/um-run-all.XXXXXX)
CLUSTER_UP=0

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    cluster_stop
    rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

header() {
    printf '\n'
    printf '#################################################################\n'
    printf '# %s\n' "$*"
    printf '#################################################################\n'
}

# Records one synthetic TAP result for a step of this runner itself.
step_result() { # status(0=ok) description
    if [[ "$1" -eq 0 ]]; then
        printf 'ok - %s\n' "$2"
        PASSED=$((PASSED + 1))
    else
        printf 'not ok - %s\n' "$2"
        FAILED=$((FAILED + 1))
    fi
}

# Counts the TAP lines of a suite's output file and folds in its exit status.
tally() { # name output-file exit-status
    local name=$1 out=$2 rc=$3 p f
    p=$(grep -cE '^ok( |$)|^not ok( .*)?# *TODO' "$out")
    f=$(grep -E '^not ok( |$)' "$out" | grep -cvE '# *TODO')
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [[ "$rc" -ne 0 && "$f" -eq 0 ]]; then
        printf 'not ok - %s exited with status %s without reporting a failing test\n' "$name" "$rc"
        FAILED=$((FAILED + 1))
    elif [[ "$rc" -eq 0 && $((p + f)) -eq 0 ]]; then
        printf 'not ok - %s ran no test\n' "$name"
        FAILED=$((FAILED + 1))
    fi
    printf '# end of suite %s: %d ok, %d not ok, exit status %s\n' "$name" "$p" "$f" "$rc"
}

# Runs a TAP-printing command as a suite: shows its output live, then tallies.
run_suite() { # name command...
    local name=$1 out rc
    shift
    header "suite: $name"
    out="$WORK/suite.out"
    timeout --kill-after=30 "$SUITE_TIMEOUT" "$@" </dev/null 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    if [[ "$rc" -eq 124 || "$rc" -eq 137 ]]; then
        printf 'not ok - %s timed out after %ss\n' "$name" "$SUITE_TIMEOUT" | tee -a "$out"
    fi
    tally "$name" "$out" "$rc"
}

run_script_suite() { # name script
    if [[ ! -f "$2" ]]; then
        header "suite: $1"
        step_result 1 "$1: suite script $2 is missing"
        return
    fi
    run_suite "$1" bash "$2"
}

# make installcheck (pg_regress) with its result lines converted to TAP.
run_installcheck() {
    local name="installcheck (pg_regress)" out="$WORK/installcheck.out" rc diffs
    header "suite: $name"
    if [[ "$CLUSTER_UP" -ne 1 ]]; then
        step_result 1 "$name: no cluster"
        return
    fi
    rm -f "$REPO/regression.diffs" "$REPO/regression.out"
    timeout --kill-after=30 "$SUITE_TIMEOUT" \
        make -C "$REPO" installcheck PG_CONFIG="$PG_CONFIG" </dev/null >"$out" 2>&1
    rc=$?
    sed 's/^/# /' "$out"
    # PG15: "test hashing   ... ok   12 ms", in parallel groups "     hashing ... ok",
    # failures "... FAILED" (optionally with a reason), "... failed (ignored)".
    sed -nE 's/^(test +|[[:space:]]+)([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(.*)$/\2\t\3/p' "$out" |
        while IFS=$'\t' read -r test result; do
            case "$result" in
                ok*) printf 'ok - regress/%s\n' "$test" ;;
                "failed (ignored)"*) printf 'ok - regress/%s # SKIP failed (ignored)\n' "$test" ;;
                *) printf 'not ok - regress/%s (%s)\n' "$test" "$result" ;;
            esac
        done >"$WORK/installcheck.tap"
    cat "$WORK/installcheck.tap"
    if [[ "$rc" -ne 0 ]]; then
        diffs=$(find "$REPO" -maxdepth 3 -name regression.diffs -newer "$out" -print -quit 2>/dev/null)
        [[ -n "$diffs" ]] || diffs=$(find "$REPO" -maxdepth 3 -name regression.diffs -print -quit 2>/dev/null)
        if [[ -n "$diffs" ]]; then
            printf '# ---- %s ----\n' "${diffs#"$REPO"/}"
            sed 's/^/# /' "$diffs"
        fi
    fi
    tally "$name" "$WORK/installcheck.tap" "$rc"
}

start=$(date +%s)

header "dependencies"
if [[ "${UM_SKIP_DEPS:-0}" == 1 ]]; then
    echo "# skipped (UM_SKIP_DEPS=1)"
else
    deps_install
    step_result $? "install dependencies (apt)"
fi

header "build + install"
if [[ "${UM_SKIP_BUILD:-0}" == 1 ]]; then
    echo "# skipped (UM_SKIP_BUILD=1)"
else
    bash "$REPO/scripts/build.sh" </dev/null 2>&1
    step_result $? "build and install the extension"
fi

header "throwaway cluster"
if cluster_start; then
    CLUSTER_UP=1
    step_result 0 "start throwaway PostgreSQL cluster"
else
    step_result 1 "start throwaway PostgreSQL cluster"
fi

run_script_suite "unit" "$REPO/test/unit/run.sh"
run_script_suite "fuzz" "$REPO/test/fuzz/run.sh"
run_installcheck

shopt -s nullglob
py_tests=("$REPO"/test/python/test_*.py)
if ((${#py_tests[@]} == 0)); then
    header "suite: python"
    step_result 1 "python: no test/python/test_*.py found"
fi
for t in "${py_tests[@]}"; do
    if [[ "$CLUSTER_UP" -ne 1 ]]; then
        header "suite: python/${t##*/}"
        step_result 1 "python/${t##*/}: no cluster"
        continue
    fi
    run_suite "python/${t##*/}" "$PYTHON" "$t"
done

for s in "$REPO"/test/suites/*.sh; do
    run_suite "suites/${s##*/}" bash "$s"
done
shopt -u nullglob

header "summary"
echo "# total time $(($(date +%s) - start))s"
echo "$PASSED passed, $FAILED failed"
if [[ "$FAILED" -gt 0 || "$PASSED" -eq 0 ]]; then
    exit 1
fi
exit 0
