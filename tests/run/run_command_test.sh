#!/usr/bin/env bash
# The README's run command in its short mode, as a newcomer runs it: starts
# PostgreSQL and the four services, loads the small town through the gRPC
# APIs, checks the reporting service reproduces its table cell for cell,
# prints it and writes the exports. Then a second run, which must find the
# town already loaded, and a third with another table, which must start
# from a fresh database. Own state, output and ports (free ones below the
# ephemeral range), removed afterwards, also on failure.
#
# Usage: run_command_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

source_dir="$1"
build_dir="$2"
mkdir -p "${build_dir}/test-tmp"
work="$(mktemp -d "${build_dir}/test-tmp/run-command.XXXXXX")"
chmod 755 "${work}"
cleanup() {
  KOSAPO_STATE_DIR="${work}/state" "${source_dir}/scripts/run.sh" --stop \
    >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT

fail() { echo "run_command_test: $*" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Four gRPC and four metrics ports in a row, all free.
pick_base() {
  local base port
  for _ in $(seq 50); do
    base=$((20000 + RANDOM % 10000))
    for port in $(seq "${base}" $((base + 3))); do
      port_free "${port}" || continue 2
    done
    echo "${base}"
    return 0
  done
  return 1
}
grpc_base="$(pick_base)" || fail "no free ports"
metrics_base="$(pick_base)" || fail "no free ports"
health_base="$(pick_base)" || fail "no free ports"

export KOSAPO_BUILD_DIR="${build_dir}" KOSAPO_STATE_DIR="${work}/state" \
  KOSAPO_OUT_DIR="${work}/out" KOSAPO_PORT_BASE="${grpc_base}" \
  KOSAPO_METRICS_PORT_BASE="${metrics_base}" KOSAPO_HEALTH_PORT_BASE="${health_base}"

"${source_dir}/scripts/run.sh" --short >"${work}/first.log" 2>&1 || {
  tail -n 40 "${work}/first.log" >&2
  fail "scripts/run.sh --short failed"
}
log="$(cat "${work}/first.log")"
grep -q "Loading the sample city" <<<"${log}" || fail "the first run did not load the town"
# Both years screened, every case of each opened by a school's extraction
# (as the case service counts them), past years as past records.
for year in 2022 2023; do
  grep -Eq "FY${year} screening: [1-9][0-9]* sheets, [1-9][0-9]* meetings I; ([1-9][0-9]*) of the year's \1 cases opened from a school's extraction" <<<"${log}" ||
    fail "FY${year}: not every case came from a screening extraction: ${log}"
done
grep -q "reproduces .*demo-town.tsv: 108 published values and 72 flags" <<<"${log}" ||
  fail "the reporting service did not reproduce the table: ${log}"
grep -q "都島区" <<<"${log}" || fail "the table was not printed"
grep -q "令和5年度 (令和6年3月末)" <<<"${log}" || fail "no city-total row printed"

# Every service served mutual TLS, and none ran in plaintext.
for service in screening case referral reporting; do
  grep -q '"message":"serving".*"tls":true' "${work}/state/logs/${service}.log" ||
    fail "${service} did not serve TLS"
  ! grep -q 'INSECURE' "${work}/state/logs/${service}.log" ||
    fail "${service} ran in plaintext"
done

# Logs never carry personal data. Every pupil's and child's name, kana and
# birth date stored by this run (read back from the database), searched for
# in the services' logs and the PostgreSQL server log of the run. Birth
# dates (pupils born before 2019) cannot be confused with the dates of the
# screening years or of the log timestamps.
pg="${source_dir}/scripts/pg-local.sh"
"${pg}" start "${work}/state/pg" >/dev/null
personal="${work}/personal.txt"
psql_as() {
  psql -X -q -At -v ON_ERROR_STOP=1 \
    "$("${pg}" url "${work}/state/pg" "$1" kosapo)" -c "$2"
}
{
  psql_as screening "SELECT DISTINCT unnest(ARRAY[pupil_name, pupil_kana,
    birth_date::text]) FROM sheets"
  psql_as case "SELECT DISTINCT unnest(ARRAY[child_name, child_kana,
    birth_date::text]) FROM cases"
} | sort -u | grep -v '^$' >"${personal}" || true
"${pg}" stop "${work}/state/pg" >/dev/null
people="$(wc -l <"${personal}")"
((people > 1000)) ||
  fail "expected the town's names and birth dates, found ${people} values"
logs=("${work}/state/logs/"*.log "${work}/state/pg/postgres.log")
if leaked="$(grep -F -o -h -f "${personal}" "${logs[@]}" | sort | uniq -c | head -n 5)" &&
  [[ -n "${leaked}" ]]; then
  fail "personal data in the logs (value, times): ${leaked}"
fi
echo "run_command_test: ${people} names, kana and birth dates; none in $(cat "${logs[@]}" | wc -l) log lines"

out="${work}/out"
[[ "$(head -c 4 "${out}/ward-comparison-fy2023.xlsx" | od -An -c | tr -d ' ')" == 'PK003004' ]] ||
  fail "the XLSX is not a zip"
[[ "$(head -c 3 "${out}/ward-comparison-fy2023.csv" | od -An -tx1 | tr -d ' ')" == 'efbbbf' ]] ||
  fail "the CSV has no byte order mark"
grep -q "中央区" "${out}/ward-comparison-fy2023.csv" || fail "the CSV lacks a ward"
grep -q "<table" "${out}/ward-comparison-fy2023.html" || fail "the HTML has no table"

# Nothing left running after the run without --keep-running.
for port in $(seq "${grpc_base}" $((grpc_base + 3))); do
  port_free "${port}" || fail "port ${port} still served after the run"
done

# A second run reuses the database: checked, not loaded again.
"${source_dir}/scripts/run.sh" --short >"${work}/second.log" 2>&1 || {
  tail -n 40 "${work}/second.log" >&2
  fail "the second run failed"
}
grep -q "already loaded" "${work}/second.log" || fail "the second run loaded again"
grep -q "reproduces" "${work}/second.log" || fail "the second run did not check"

# Another table (the same town, other bytes): the old city cannot be loaded
# over, so the database starts afresh and the new table is reproduced.
cp "${source_dir}/tools/sample/testdata/demo-town.tsv" "${work}/town.tsv"
echo >>"${work}/town.tsv"
KOSAPO_WARD_TABLE="${work}/town.tsv" "${source_dir}/scripts/run.sh" --short \
  >"${work}/third.log" 2>&1 || {
  tail -n 40 "${work}/third.log" >&2
  fail "the run with another table failed"
}
grep -q "changed since" "${work}/third.log" || fail "the third run kept the old database"
grep -q "Loading the sample city" "${work}/third.log" || fail "the third run did not load"
grep -q "reproduces .*town.tsv" "${work}/third.log" || fail "the third run did not reproduce its table"
echo "run_command_test: both runs green"
