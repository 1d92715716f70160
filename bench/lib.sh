# Set-up shared by the server benchmarks (source it; REPO must be set):
# dependencies, build and install, a throwaway cluster stopped on exit, the
# extension and pgcrypto (the baseline) in its default database.
# shellcheck shell=bash source-path=SCRIPTDIR/..

# shellcheck source=scripts/lib/deps.sh
source "$REPO/scripts/lib/deps.sh"
# shellcheck source=scripts/lib/cluster.sh
source "$REPO/scripts/lib/cluster.sh"

bench_setup() {
    [[ "${UM_SKIP_DEPS:-0}" == 1 ]] || deps_install
    [[ "${UM_SKIP_BUILD:-0}" == 1 ]] || bash "$REPO/scripts/build.sh"

    trap cluster_stop EXIT
    cluster_start

    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
    psql -X -q -v ON_ERROR_STOP=1 \
        -c "CREATE EXTENSION user_mgmt" -c "CREATE EXTENSION pgcrypto"
}
