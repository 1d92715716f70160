#!/usr/bin/env bash
# Load and crash suite of user_mgmt (TAP), at the short length CI runs:
# test/load/run.sh with its defaults (16 clients for 20 s, then three crash
# tests of 10 s each, every part on a throwaway cluster of its own; about 90
# s on 2 cores).  Longer: UM_LOAD_SECONDS=120 bash test/load/run.sh.  The
# tests themselves are in test/load/load.py and test/load/crash.py.
#
# Runs as root or as the postgres OS user (it starts and crashes its own
# clusters, never the one test/run-all.sh started).  Exits non-zero when a
# test fails.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../load/run.sh" "$@"
