#!/usr/bin/env bash
# Runs every kosapo test on this machine: installs what is missing (Debian
# 12), configures and builds with warnings as errors, then runs the unit,
# integration and end-to-end tests through CTest. Tests start their own
# PostgreSQL clusters and services on free loopback ports and remove them.
#
# Usage: scripts/test.sh [ctest arguments...]
#   scripts/test.sh              every test
#   scripts/test.sh -L unit      only the fast unit tests (also: integration, e2e)
#   scripts/test.sh -R Outbox    tests whose name matches
# Environment: KOSAPO_BUILD_DIR (default: build/ in the checkout).
# Exit code: 0 when every test passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KOSAPO_BUILD_DIR:-${root}/build}"
jobs="$(nproc)"

"${root}/scripts/install-deps.sh"

# ccache: paths relative to the checkout, so every clone on this machine
# (CI clones afresh each time) shares one cache.
export CCACHE_BASEDIR="${root}" CCACHE_NOHASHDIR=true

start=$(date +%s)
cmake -S "${root}" -B "${build}" -G Ninja -DKOSAPO_WERROR=ON >/dev/null
cmake --build "${build}" -j "${jobs}"
echo "test.sh: built in $(($(date +%s) - start))s"

# Clusters left running by a test binary that was killed (not one that
# merely failed: those clean up after themselves).
"${root}/scripts/pg-local.sh" sweep "${build}/test-tmp" >/dev/null 2>&1 || true

ctest --test-dir "${build}" --output-on-failure --no-tests=error -j "${jobs}" "$@"
