#!/usr/bin/env bash
# Starts the whole kosapo suite on this machine: installs what is missing
# (Debian 12), builds, starts a local PostgreSQL in .kosapo/ (no system
# service needed), provisions one role and schema per service, starts the four
# services on loopback, and shows that each has migrated its schema and is
# serving. Later capabilities load a sample city and print the ward
# comparison here.
#
# Usage:
#   scripts/run.sh                 start, check, show, then stop everything
#   scripts/run.sh --keep-running  leave the suite up for exploring
#   scripts/run.sh --stop          stop a suite left running
# Environment: KOSAPO_BUILD_DIR (default build/), KOSAPO_STATE_DIR (default
# .kosapo/: database, keys, logs; delete it to start from scratch).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KOSAPO_BUILD_DIR:-${root}/build}"
state="${KOSAPO_STATE_DIR:-${root}/.kosapo}"
readonly SERVICES=(screening case referral reporting)
declare -A PORT=([screening]=50051 [case]=50052 [referral]=50053 [reporting]=50054)
declare -A METRICS=([screening]=9451 [case]=9452 [referral]=9453 [reporting]=9454)
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
case "${1:-}" in
  --keep-running) keep_running=true ;;
  --stop) stop_all; say "kosapo stopped."; exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (use --keep-running or --stop)" ;;
esac

started=$(date +%s)
"${root}/scripts/install-deps.sh"
say "Building (incremental after the first run)..."
cmake -S "${root}" -B "${build}" -G Ninja >/dev/null
cmake --build "${build}" -j "$(nproc)" --target \
  kosapo_screening_server kosapo_case_server kosapo_referral_server \
  kosapo_reporting_server kosapo_cli

mkdir -p "${state}/run" "${state}/logs" "${state}/keys"
stop_services  # a suite left running by an earlier --keep-running
if [[ "${keep_running}" == false ]]; then
  trap 'stop_all' EXIT
else
  trap 'status=$?; if [[ ${status} -ne 0 ]]; then stop_all; fi' EXIT
fi

for service in "${SERVICES[@]}"; do
  for port in "${PORT[${service}]}" "${METRICS[${service}]}"; do
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
"${build}/tools/kosapo" token mint \
  --private-key-file="${state}/keys/jwt-es256.key" --algorithm=ES256 \
  --issuer=kosapo-dev --audience=kosapo --subject=service:local \
  --role=service --ttl=24h >"${state}/keys/service.token"
chmod 600 "${state}/keys/service.token"

for service in "${SERVICES[@]}"; do
  env -i PATH="${PATH}" \
    PORT="${PORT[${service}]}" \
    KOSAPO_METRICS_PORT="${METRICS[${service}]}" \
    KOSAPO_LISTEN_HOST=127.0.0.1 \
    KOSAPO_DB_URL="${DB_URL[${service}]}" \
    KOSAPO_JWT_PUBLIC_KEY_FILE="${state}/keys/jwt-es256.pub" \
    KOSAPO_PEER_TOKEN_FILE="${state}/keys/service.token" \
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

if [[ "${keep_running}" == true ]]; then
  echo "Left running. Service token for calls: ${state}/keys/service.token"
  echo "Stop with: scripts/run.sh --stop"
else
  echo "Stopping (use --keep-running to leave it up)..."
fi
