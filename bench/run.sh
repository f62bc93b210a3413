#!/usr/bin/env bash
# Builds and runs kosapo's benchmarks, each a ratio against a baseline
# measured in the same run on this machine, and prints Markdown tables.
#
#   bench/run.sh             full size: a whole city (165,000 pupils;
#                            200,000 acknowledged urgent reports; a ward
#                            comparison over 1,000,000 cases in ten years;
#                            unary calls for 10 s per point; 300 extractions
#                            per phase); writes bench/RESULTS.md with the
#                            machine it ran on
#   bench/run.sh --national  the same, and the ward comparison over
#                            10,000,000 cases too (a national scale; about
#                            3 GB of database and several minutes to load)
#   bench/run.sh --short     small sizes, to prove the benchmarks and this
#                            script work (CI runs it: CTest bench_run_short,
#                            label "bench"); assembles RESULTS.md in a
#                            temporary directory, checks it and writes
#                            nothing
#
# KOSAPO_BENCH_NOTE adds a line to RESULTS.md (e.g. that the machine was
# shared with other work while it ran). KOSAPO_BENCH_PREBUILT=1 skips
# installing and building (CTest, which runs after the build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KOSAPO_BUILD_DIR:-${root}/build}"
rows=165000
history=200000
surge=5000
calls=300
ward_cases=1000000
ward_calls=20
national=false
unary_seconds=10
unary_warmup=2
extractions=300
rate=20
token_seconds=3
unary_extra=()
pipeline_extra=()
short=false
case "${1:-}" in
  --short)
    short=true; rows=3000; history=20000; surge=500; calls=50
    ward_cases=20000; ward_calls=10; unary_seconds=1; unary_warmup=0.3
    extractions=40; rate=40; token_seconds=0.5; unary_extra=(--cases=20)
    pipeline_extra=(--callers=4)
    ;;
  --national) national=true ;;
  "") ;;
  *) echo "usage: bench/run.sh [--short|--national]" >&2; exit 2 ;;
esac

if [[ "${KOSAPO_BENCH_PREBUILT:-}" != 1 ]]; then
  "${root}/scripts/install-deps.sh" >/dev/null
  cmake -S "${root}" -B "${build}" -G Ninja >/dev/null
  cmake --build "${build}" -j "$(nproc)" --target screening_intake_bench \
    urgent_list_bench ward_comparison_bench unary_bench pipeline_bench \
    token_verify_bench
fi

out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "## Bulk screening intake (${rows} pupils)"
"${build}/bench/screening_intake_bench" --rows="${rows}" --out="${out}/intake"
echo "## Urgent report escalation list"
"${build}/bench/urgent_list_bench" --history="${history}" --surge="${surge}" \
  --calls="${calls}" --out="${out}/urgent"
echo "## Ward comparison (${ward_cases} cases)"
"${build}/bench/ward_comparison_bench" --cases="${ward_cases}" \
  --calls="${ward_calls}" --timeout=60 --out="${out}/ward"
if [[ "${national}" == true ]]; then
  echo "## Ward comparison at a national scale (10000000 cases)"
  "${build}/bench/ward_comparison_bench" --cases=10000000 \
    --calls="${ward_calls}" --timeout=60 --out="${out}/ward-national"
fi
echo "## Unary calls"
"${build}/bench/unary_bench" --seconds="${unary_seconds}" \
  --warmup="${unary_warmup}" "${unary_extra[@]}" --out="${out}/unary"
echo "## Event propagation and memory"
"${build}/bench/pipeline_bench" --extractions="${extractions}" \
  --rate="${rate}" "${pipeline_extra[@]}" --out="${out}/pipeline"
echo "## Bearer-token verification"
"${build}/bench/token_verify_bench" --seconds="${token_seconds}" \
  --out="${out}/token"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# RESULTS.md ends with sections written by hand (the resilience tests'
# findings), after this line; a run rewrites what is above it only.
kept_marker='<!-- Written by hand from here on; bench/run.sh keeps it. -->'
results="${root}/bench/RESULTS.md"
# A short run's figures mean nothing: it assembles the file where it is
# thrown away, to check that the assembly works.
written="${results}"
if [[ "${short}" == true ]]; then
  written="${out}/RESULTS.md"
fi
kept="${out}/kept"
: >"${kept}"
if [[ -f "${results}" ]]; then
  awk -v marker="${kept_marker}" '$0 == marker { kept = 1 } kept' \
    "${results}" >"${kept}"
fi
{
  echo "# kosapo benchmark results"
  echo
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) by bench/run.sh on $(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
  echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release; echo "${PRETTY_NAME}")."
  echo "Each figure is compared with a baseline measured in the same run;"
  echo "bench/ANALYSIS.md explains the figures and what was changed because of them."
  echo "Load average (1, 5, 15 min) before the run: ${load_before}; after: ${load_after}."
  if [[ -n "${KOSAPO_BENCH_NOTE:-}" ]]; then
    echo
    echo "${KOSAPO_BENCH_NOTE}"
  fi
  echo
  echo "## Bulk screening intake (${rows} pupils)"
  echo
  cat "${out}/intake"
  echo
  echo "## Urgent report escalation list (ListUrgentReports, ${calls} calls each)"
  echo
  cat "${out}/urgent"
  echo
  echo "## Ward comparison (issue 10, benchmark 2)"
  echo
  cat "${out}/ward"
  if [[ -f "${out}/ward-national" ]]; then
    echo
    echo "At a national scale:"
    echo
    cat "${out}/ward-national"
  fi
  echo
  echo "## Unary calls of the case service (issue 10, benchmark 3)"
  echo
  cat "${out}/unary"
  echo
  echo "## Event propagation and memory (issue 10, benchmarks 4 and 5)"
  echo
  cat "${out}/pipeline"
  echo
  echo "## Bearer-token verification (the cache of verified tokens)"
  echo
  cat "${out}/token"
  if [[ -s "${kept}" ]]; then
    echo
    cat "${kept}"
  fi
} >"${written}.new"
mv "${written}.new" "${written}"
# Every benchmark's table made it in, and the hand-written part was kept.
for section in "Bulk screening intake" "Urgent report escalation list" \
  "Ward comparison" "Unary calls" "Event propagation and memory" \
  "Bearer-token verification"; do
  if ! grep -q "^## ${section}" "${written}"; then
    echo "bench/run.sh: RESULTS.md has no section \"${section}\"" >&2
    exit 1
  fi
done
for table in "${out}"/intake "${out}"/urgent "${out}"/ward "${out}"/unary \
  "${out}"/pipeline "${out}"/token; do
  if ! grep -q '^|' "${table}"; then
    echo "bench/run.sh: ${table##*/} wrote no table" >&2
    exit 1
  fi
done
if [[ -s "${kept}" ]] && ! grep -qxF "${kept_marker}" "${written}"; then
  echo "bench/run.sh: the hand-written part of RESULTS.md was lost" >&2
  exit 1
fi
if [[ "${short}" == true ]]; then
  echo "Short run: every benchmark ran and RESULTS.md assembled (not written)"
else
  echo "Wrote bench/RESULTS.md"
fi
