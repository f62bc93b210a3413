#!/usr/bin/env bash
# Builds and runs kosapo's benchmarks, each a ratio against a baseline
# measured in the same run on this machine, and prints a Markdown table.
#
#   bench/run.sh           full size (a whole city: 165,000 pupils; 200,000
#                          acknowledged urgent reports); writes
#                          bench/RESULTS.md with the machine it ran on
#   bench/run.sh --short   a small city, to prove the benchmarks work
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KOSAPO_BUILD_DIR:-${root}/build}"
rows=165000
history=200000
surge=5000
calls=300
short=false
case "${1:-}" in
  --short) short=true; rows=3000; history=20000; surge=500; calls=50 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--short]" >&2; exit 2 ;;
esac

"${root}/scripts/install-deps.sh" >/dev/null
cmake -S "${root}" -B "${build}" -G Ninja >/dev/null
cmake --build "${build}" -j "$(nproc)" --target screening_intake_bench \
  urgent_list_bench

table="$(mktemp)"
urgent="$(mktemp)"
trap 'rm -f "${table}" "${urgent}"' EXIT
echo "## Bulk screening intake (${rows} pupils)"
"${build}/bench/screening_intake_bench" --rows="${rows}" --out="${table}"
echo "## Urgent report escalation list"
"${build}/bench/urgent_list_bench" --history="${history}" --surge="${surge}" \
  --calls="${calls}" --out="${urgent}"

if [[ "${short}" == false ]]; then
  {
    echo "# kosapo benchmark results"
    echo
    echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) by bench/run.sh on $(nproc) cores,"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release; echo "${PRETTY_NAME}")."
    echo "Each figure is compared with a baseline measured in the same run."
    echo
    echo "## Bulk screening intake (${rows} pupils)"
    echo
    cat "${table}"
    echo
    echo "## Urgent report escalation list (ListUrgentReports, ${calls} calls each)"
    echo
    cat "${urgent}"
  } >"${root}/bench/RESULTS.md"
  echo "Wrote bench/RESULTS.md"
fi
