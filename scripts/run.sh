#!/usr/bin/env bash
# Starts the whole kosapo suite on this machine and shows it working:
# installs what is missing (Debian 12), builds, starts a local PostgreSQL in
# .kosapo/ (no system service needed), provisions a schema and two roles per
# service (an owner that migrates, a runtime role the service runs as),
# starts the four services on loopback, loads a sample city through their
# public gRPC APIs (pupils, cases, outreach, referrals,
# outcomes) and checks that the reporting service reproduces the city's
# published ward comparison cell for cell; then prints it as a table and
# writes it as XLSX, CSV and HTML under out/.
#
# Usage:
#   scripts/run.sh                 start, load, show, then stop everything
#   scripts/run.sh --keep-running  leave the suite up for exploring
#   scripts/run.sh --short         the same with a small town (4 wards,
#                                  about 600 cases): a minute, for CI
#   scripts/run.sh --stop          stop a suite left running
# A second run reuses the build and the database: a city already loaded is
# checked, not loaded again.
# Every gRPC port speaks mutual TLS with certificates from a development CA
# (scripts/dev-ca.sh, in .kosapo/tls/); the CLI's are client/cli/ there.
# Environment: KOSAPO_BUILD_DIR (default build/), KOSAPO_STATE_DIR (default
# .kosapo/, or .kosapo/short/ with --short: database, keys, TLS, logs; delete it
# to start from scratch), KOSAPO_WARD_TABLE (the table to reproduce; default
# the city's published one, services/reporting/testdata/), KOSAPO_OUT_DIR
# (default out/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KOSAPO_BUILD_DIR:-${root}/build}"
state="${KOSAPO_STATE_DIR:-${root}/.kosapo}"
readonly SERVICES=(screening case referral reporting)
# Ports: four in a row from KOSAPO_PORT_BASE (gRPC), KOSAPO_METRICS_PORT_BASE
# (metrics) and KOSAPO_HEALTH_PORT_BASE (plaintext health checks); the
# defaults are the services' own.
port_base="${KOSAPO_PORT_BASE:-50051}"
metrics_base="${KOSAPO_METRICS_PORT_BASE:-9451}"
health_base="${KOSAPO_HEALTH_PORT_BASE:-8451}"
declare -A PORT=() METRICS=() HEALTH=()
offset=0
for service in "${SERVICES[@]}"; do
  PORT[${service}]=$((port_base + offset))
  METRICS[${service}]=$((metrics_base + offset))
  HEALTH[${service}]=$((health_base + offset))
  offset=$((offset + 1))
done
declare -A GRPC_NAME=(
  [screening]=kosapo.screening.v1.ScreeningService
  [case]=kosapo.cases.v1.CaseService
  [referral]=kosapo.referral.v1.ReferralService
  [reporting]=kosapo.reporting.v1.ReportingService)

say() { printf '\033[1m%s\033[0m\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

stop_services() {
  local service pid
  for service in "${SERVICES[@]}"; do
    [[ -f "${state}/run/${service}.pid" ]] || continue
    pid="$(cat "${state}/run/${service}.pid")"
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null || true
    fi
  done
  for service in "${SERVICES[@]}"; do
    [[ -f "${state}/run/${service}.pid" ]] || continue
    pid="$(cat "${state}/run/${service}.pid")"
    for _ in $(seq 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "${pid}" 2>/dev/null || true
    rm -f "${state}/run/${service}.pid"
  done
}

stop_all() {
  stop_services
  if [[ -d "${state}/pg" ]]; then
    "${root}/scripts/pg-local.sh" stop "${state}/pg" >/dev/null || true
  fi
}

keep_running=false
short=false
for arg in "$@"; do
  case "${arg}" in
    --keep-running) keep_running=true ;;
    --short) short=true ;;
    --stop)
      stop_all
      # A --short suite keeps its state apart.
      if [[ -z "${KOSAPO_STATE_DIR:-}" ]]; then
        state="${root}/.kosapo/short"
        stop_all
      fi
      say "kosapo stopped."
      exit 0
      ;;
    *) die "unknown argument '${arg}' (use --keep-running, --short or --stop)" ;;
  esac
done
table="${KOSAPO_WARD_TABLE:-${root}/services/reporting/testdata/osaka-kosapo-ward-table.tsv}"
if [[ "${short}" == true ]]; then
  # Its own database: the small town must not mix with the whole city.
  state="${KOSAPO_STATE_DIR:-${root}/.kosapo/short}"
  table="${KOSAPO_WARD_TABLE:-${root}/tools/sample/testdata/demo-town.tsv}"
fi
[[ -r "${table}" ]] || die "cannot read the ward table ${table}"
out_dir="${KOSAPO_OUT_DIR:-${root}/out}"

# The database holds the sample city as the generator and loader of some
# version made it from some table. Loading is idempotent by request ids
# derived from the city, so a city made differently (another table, a
# changed generator) cannot be loaded over an old one: its cases would come
# back as they were. Such a database is started afresh.
sample_fingerprint="$(cat "${root}"/tools/sample/*.cc "${root}"/tools/sample/*.h \
  "${table}" | sha256sum | cut -d' ' -f1)"
if [[ -d "${state}/pg" &&
  "$(cat "${state}/sample.sha256" 2>/dev/null || true)" != "${sample_fingerprint}" ]]; then
  say "The sample city changed since ${state}/pg was loaded: starting with a fresh database."
  stop_all
  rm -rf "${state}/pg" "${state}/sample.sha256"
fi

started=$(date +%s)
"${root}/scripts/install-deps.sh"
say "Building (incremental after the first run)..."
cmake -S "${root}" -B "${build}" -G Ninja >/dev/null
cmake --build "${build}" -j "$(nproc)" --target \
  kosapo_screening_server kosapo_case_server kosapo_referral_server \
  kosapo_reporting_server kosapo_cli kosapo_sample_tool

mkdir -p "${state}/run" "${state}/logs" "${state}/keys"
stop_services  # a suite left running by an earlier --keep-running
if [[ "${keep_running}" == false ]]; then
  trap 'stop_all' EXIT
else
  trap 'status=$?; if [[ ${status} -ne 0 ]]; then stop_all; fi' EXIT
fi

for service in "${SERVICES[@]}"; do
  for port in "${PORT[${service}]}" "${METRICS[${service}]}" "${HEALTH[${service}]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      die "port ${port} (for ${service}) is already in use on 127.0.0.1"
    fi
  done
done

say "Starting PostgreSQL in ${state}/pg ..."
"${root}/scripts/pg-local.sh" start "${state}/pg" >/dev/null
declare -A DB_URL=()
while IFS='=' read -r service url; do
  DB_URL[${service}]="${url}"
done < <("${root}/scripts/pg-local.sh" provision "${state}/pg" kosapo \
  screening:screening case:cases referral:referral reporting:reporting)

"${root}/scripts/dev-keys.sh" "${state}/keys" >/dev/null
# Mutual TLS: a development CA, a certificate per service, one for the CLI
# and one for the sample loader (a service: it reads the feeds' heads).
# The services call each other with their certificates, no tokens.
tls="${state}/tls"
"${root}/scripts/dev-ca.sh" "${tls}" >/dev/null
"${root}/scripts/dev-ca.sh" "${tls}" --service sample >/dev/null
# Screening, case and referral encrypt notes and other free text at rest.
field_key_id="$("${root}/scripts/dev-field-keys.sh" "${state}/field-keys")"
export KOSAPO_TLS_CA="${tls}/client/cli/ca.crt" \
  KOSAPO_TLS_CERT="${tls}/client/cli/tls.crt" \
  KOSAPO_TLS_KEY="${tls}/client/cli/tls.key"

for service in "${SERVICES[@]}"; do
  env -i PATH="${PATH}" \
    PORT="${PORT[${service}]}" \
    KOSAPO_METRICS_PORT="${METRICS[${service}]}" \
    KOSAPO_LISTEN_HOST=127.0.0.1 \
    KOSAPO_DB_URL="${DB_URL[${service}]}" \
    KOSAPO_DB_MIGRATION_URL="${DB_URL[${service}.owner]}" \
    KOSAPO_HEALTH_PORT="${HEALTH[${service}]}" \
    KOSAPO_REFLECTION=true \
    KOSAPO_JWT_PUBLIC_KEY_FILE="${state}/keys/jwt-es256.pub" \
    KOSAPO_TLS_CERT_FILE="${tls}/service/${service}/tls.crt" \
    KOSAPO_TLS_KEY_FILE="${tls}/service/${service}/tls.key" \
    KOSAPO_TLS_CA_FILE="${tls}/service/${service}/ca.crt" \
    KOSAPO_FIELD_KEYS_DIR="${state}/field-keys" \
    KOSAPO_FIELD_KEY_ID="${field_key_id}" \
    KOSAPO_SCREENING_ADDRESS="127.0.0.1:${PORT[screening]}" \
    KOSAPO_CASE_ADDRESS="127.0.0.1:${PORT[case]}" \
    KOSAPO_REFERRAL_ADDRESS="127.0.0.1:${PORT[referral]}" \
    KOSAPO_DRAIN_DELAY=1s \
    "${build}/services/${service}/kosapo-${service}" \
    >"${state}/logs/${service}.log" 2>&1 &
  echo $! >"${state}/run/${service}.pid"
done

say "Waiting for the services to migrate and report healthy..."
printf '\n%-10s %-17s %-10s %-30s %s\n' SERVICE GRPC HEALTH METRICS LOG
for service in "${SERVICES[@]}"; do
  health="$("${build}/tools/kosapo" health \
    --address="127.0.0.1:${PORT[${service}]}" \
    --service="${GRPC_NAME[${service}]}" --wait=60s || true)"
  status="${health##*: }"
  printf '%-10s %-17s %-10s %-30s %s\n' "${service}" \
    "127.0.0.1:${PORT[${service}]}" "${status}" \
    "http://127.0.0.1:${METRICS[${service}]}/metrics" \
    "${state#"${root}/"}/logs/${service}.log"
  if [[ "${status}" != "SERVING" ]]; then
    tail -n 5 "${state}/logs/${service}.log" >&2 || true
    die "${service} did not become healthy; see ${state}/logs/${service}.log"
  fi
done
echo
say "kosapo is up ($(($(date +%s) - started))s). Database: ${state}/pg, logs: ${state}/logs."

# The sample city: the table's municipality and latest fiscal year.
municipality="$(awk -F'\t' 'NR > 1 && $1 == "city_total" { print $4; exit }' "${table}")"
fiscal_year="$(awk -F'\t' 'NR > 1 && $1 != "city_total" { print $2; exit }' "${table}")"
sample=("${build}/tools/sample/kosapo-sample" --table="${table}"
  --private_key_file="${state}/keys/jwt-es256.key"
  --tls_ca_file="${tls}/service/sample/ca.crt"
  --tls_cert_file="${tls}/service/sample/tls.crt"
  --tls_key_file="${tls}/service/sample/tls.key"
  --screening="127.0.0.1:${PORT[screening]}"
  --case_service="127.0.0.1:${PORT[case]}"
  --referral="127.0.0.1:${PORT[referral]}"
  --reporting="127.0.0.1:${PORT[reporting]}")
if "${sample[@]}" check --wait=2m >/dev/null 2>&1; then
  say "The sample city is already loaded (${state#"${root}/"}/pg)."
else
  say "Loading the sample city through the services' gRPC APIs..."
  echo "  (${table#"${root}/"}: every pupil count, case, outreach, referral and outcome behind it)"
  "${sample[@]}" load
fi
say "Waiting for the reporting service to apply every event, then comparing..."
"${sample[@]}" check
echo "${sample_fingerprint}" >"${state}/sample.sha256"

# The comparison as city staff see it: an analyst's token of the city.
"${build}/tools/kosapo" token mint \
  --private-key-file="${state}/keys/jwt-es256.key" \
  --subject=user:demo-analyst --role=analyst \
  --municipality="${municipality}" --ttl=24h >"${state}/keys/analyst.token"
chmod 600 "${state}/keys/analyst.token"
kosapo=(env KOSAPO_TOKEN_FILE="${state}/keys/analyst.token"
  KOSAPO_REPORTING_ADDRESS="127.0.0.1:${PORT[reporting]}" "${build}/tools/kosapo")
echo
say "Ward comparison, fiscal year ${fiscal_year}:"
"${kosapo[@]}" report ward-comparison --fy="${fiscal_year}"
mkdir -p "${out_dir}"
echo
for format in xlsx csv html; do
  file="${out_dir}/ward-comparison-fy${fiscal_year}.${format}"
  "${kosapo[@]}" report ward-comparison --fy="${fiscal_year}" \
    --format="${format}" --out="${file}"
done
echo
say "Done in $(($(date +%s) - started))s."

if [[ "${keep_running}" == true ]]; then
  rel_tls="${tls#"${root}/"}/client/cli"
  echo "Left running, mutual TLS on every gRPC port. The CLI's certificate:"
  echo "  export KOSAPO_TLS_CA=${rel_tls}/ca.crt KOSAPO_TLS_CERT=${rel_tls}/tls.crt KOSAPO_TLS_KEY=${rel_tls}/tls.key"
  echo "A token: ${state#"${root}/"}/keys/analyst.token (an analyst of ${municipality}). For example:"
  echo "  KOSAPO_TOKEN_FILE=${state#"${root}/"}/keys/analyst.token build/tools/kosapo report ward-comparison --fy=${fiscal_year}"
  echo "  build/tools/kosapo health"
  echo "Stop with: scripts/run.sh --stop"
else
  echo "Stopping (use --keep-running to leave it up)..."
fi
