#!/usr/bin/env bash
# Runs the screening and case images as a pod would, without a container
# engine (CTest label "deploy"): each service's root filesystem (assembled by
# scripts/build-image-stage.sh rootfs from this build) is mounted read-only in
# a private mount namespace, with a tmpfs on /tmp, the public key and the
# service's TLS Secret (from scripts/dev-ca.sh) mounted like Secret volumes
# under /var/run/kosapo, and /etc/hosts like
# the kubelet's; the binary runs there as user 65532 with its environment
# taken from the base ConfigMap (deploy/base/<service>/config.env), against a
# throwaway PostgreSQL provisioned as deploy/README.md says. Each runs first
# as its init container does (--migrate_only as the owner role), then as its
# main container (runtime role only, KOSAPO_MIGRATIONS=check). Both must
# report SERVING on their own health names, over mutual TLS and
# on the plaintext health port the probes use (case follows the screening
# feed through dns:///localhost with its certificate, and checks its
# Asia/Tokyo time zone at start), then drain and exit 0 on SIGTERM.
#
# Usage: image-run-test.sh SOURCE_DIR BUILD_DIR
# Needs root (mount namespaces, chroot, user 65532); as another user it says
# so and exits 77, which CTest reports as skipped (CI runs as root).
set -euo pipefail

source_dir="$1"
build_dir="$2"
stage="${source_dir}/scripts/build-image-stage.sh"
pg="${source_dir}/scripts/pg-local.sh"
kosapo="${build_dir}/tools/kosapo"

die() {
  printf 'image-run-test: %s\n' "$*" >&2
  exit 1
}
if [[ "$(id -u)" -ne 0 ]]; then
  echo "image-run-test: skipped: needs root (mount namespace, read-only bind mounts, chroot)" >&2
  exit 77
fi
command -v unshare >/dev/null || die "unshare not found (util-linux)"
[[ -x "${kosapo}" ]] || die "${kosapo} is not built"

work="$(mktemp -d "${TMPDIR:-/tmp}/kosapo-image-run.XXXXXX")"
chmod 0755 "${work}"  # the postgres user runs the throwaway cluster
declare -A PID=()
cleanup() {
  local service
  for service in "${!PID[@]}"; do
    kill -KILL "${PID[${service}]}" 2>/dev/null || true
  done
  "${pg}" destroy "${work}/pg" >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT

"${stage}" rootfs "${build_dir}" "${work}/images" screening case 2>"${work}/rootfs.log" ||
  { cat "${work}/rootfs.log" >&2; die "build-image-stage.sh rootfs failed"; }
KOSAPO_PG_FAST=1 "${pg}" start "${work}/pg" >/dev/null 2>"${work}/pg.log" ||
  { cat "${work}/pg.log" >&2; die "could not start PostgreSQL"; }
declare -A DB_URL=()
while IFS='=' read -r service url; do
  DB_URL[${service}]="${url}"
done < <("${pg}" provision "${work}/pg" kosapo screening:screening case:cases 2>>"${work}/pg.log")

# What the Secrets hold.
mkdir -p "${work}/secrets/jwt"
"${source_dir}/scripts/dev-keys.sh" "${work}/keys" >/dev/null
cp "${work}/keys/jwt-es256.pub" "${work}/secrets/jwt/jwt.pub"
"${source_dir}/scripts/dev-ca.sh" "${work}/ca" >/dev/null
for service in screening case; do
  cp -r "${work}/ca/service/${service}" "${work}/secrets/tls-${service}"
done
# Each service's field encryption key, under the id its ConfigMap makes
# active.
for service in screening case; do
  field_key_id="$(sed -n 's/^KOSAPO_FIELD_KEY_ID=//p' "${source_dir}/deploy/base/${service}/config.env")"
  mkdir -p "${work}/secrets/field-keys-${service}"
  openssl rand -base64 32 >"${work}/secrets/field-keys-${service}/${field_key_id}.key"
done
chmod -R a+rX "${work}/secrets"
# The probes' and this script's client certificate.
export KOSAPO_TLS_CA="${work}/ca/client/cli/ca.crt" \
  KOSAPO_TLS_CERT="${work}/ca/client/cli/tls.crt" \
  KOSAPO_TLS_KEY="${work}/ca/client/cli/tls.key"
printf '127.0.0.1 localhost\n' >"${work}/hosts"

# The ConfigMap's settings, as the kubelet passes them (envFrom), with the
# ports made free ones and peers on this machine.
pod_env() {
  local service="$1" key value
  local -a env=(PATH=/usr/local/bin)
  while IFS='=' read -r key value; do
    [[ -z "${key}" || "${key}" == \#* ]] && continue
    case "${key}" in
      PORT | KOSAPO_METRICS_PORT | KOSAPO_HEALTH_PORT) value=0 ;;
      KOSAPO_LISTEN_HOST) value=127.0.0.1 ;;
      KOSAPO_SCREENING_ADDRESS) value="dns:///localhost:${PORT_OF[screening]}" ;;
      KOSAPO_DRAIN_DELAY) value=1s ;;
    esac
    env+=("${key}=${value}")
  done <"${source_dir}/deploy/base/${service}/config.env"
  env+=("KOSAPO_DB_URL=${DB_URL[${service}]}")
  printf '%s\0' "${env[@]}"
}

# Runs kosapo-SERVICE in its image with the environment given after SERVICE,
# in place of the calling (sub)shell, so that its pid is the service's.
in_image() {
  local service="$1" root="${work}/images/$1"
  shift
  # Mount points the kubelet would create in the container's root.
  mkdir -p "${root}/var/run/kosapo/jwt" "${root}/var/run/kosapo/tls" \
    "${root}/var/run/kosapo/field-keys"
  [[ -e "${root}/etc/hosts" ]] || touch "${root}/etc/hosts"
  exec unshare --mount --propagation private bash -c '
    set -e
    root="$1" work="$2" service="$3"
    shift 3
    mount --bind "${root}" "${root}"
    mount -o remount,bind,ro "${root}"
    mount -t tmpfs -o size=16m,mode=1777 tmpfs "${root}/tmp"
    mount --bind -o ro "${work}/secrets/jwt" "${root}/var/run/kosapo/jwt"
    mount --bind -o ro "${work}/secrets/tls-${service}" "${root}/var/run/kosapo/tls"
    if [[ -d "${work}/secrets/field-keys-${service}" ]]; then
      mount --bind -o ro "${work}/secrets/field-keys-${service}" "${root}/var/run/kosapo/field-keys"
    fi
    mount --bind -o ro "${work}/hosts" "${root}/etc/hosts"
    chroot="$(command -v chroot)"
    # The environment is set outside: the image has no env program.
    exec env -i "${@:1:$#-1}" "${chroot}" --userspec=65532:65532 "${root}" "${@: -1}"
  ' pod "${root}" "${work}" "${service}" "$@" "/usr/local/bin/kosapo-${service}"
}

# The init container: migrates as the owner role, grants the runtime role
# and exits.
migrate_pod() {
  local service="$1" log="${work}/$1-migrate.log"
  local -a env=()
  mapfile -d '' -t env < <(pod_env "${service}")
  env+=("KOSAPO_DB_MIGRATION_URL=${DB_URL[${service}.owner]}"
    "KOSAPO_MIGRATE_ONLY=true")
  if ! (in_image "${service}" "${env[@]}") >"${log}" 2>&1; then
    cat "${log}" >&2
    die "the migration (init container) of kosapo-${service} failed"
  fi
}

declare -A PORT_OF=() HEALTH_OF=()
# The main container: the runtime role only, checking the migrations.
start_pod() {
  local service="$1" log="${work}/$1.log"
  local -a env=()
  mapfile -d '' -t env < <(pod_env "${service}")
  env+=("KOSAPO_MIGRATIONS=check")
  in_image "${service}" "${env[@]}" >"${log}" 2>&1 &
  PID[${service}]=$!
  local port="" health=""
  for _ in $(seq 600); do  # up to a minute on a busy machine
    port="$(grep -o '"message":"serving".*' "${log}" 2>/dev/null |
      grep -o '"port":[0-9]*' | head -n1 | cut -d: -f2 || true)"
    # From the "serving" line: the "starting" line quotes the setting ("0").
    health="$(grep '"message":"serving"' "${log}" 2>/dev/null |
      grep -o '"health_port":[0-9]*' | head -n1 | cut -d: -f2 || true)"
    [[ -n "${port}" ]] && break
    kill -0 "${PID[${service}]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "${port}" ]]; then
    cat "${log}" >&2
    die "kosapo-${service} did not start in its image"
  fi
  PORT_OF[${service}]="${port}"
  HEALTH_OF[${service}]="${health}"
}

failures=0
check_serving() {
  local service="$1" name="$2" out
  if out="$("${kosapo}" health --address="127.0.0.1:${PORT_OF[${service}]}" --service="${name}" \
    --wait=20s 2>&1)"; then
    echo "ok   kosapo-${service} in its image, mutual TLS: ${out}"
  else
    echo "FAIL kosapo-${service} in its image, mutual TLS: ${out}"
    tail -n 5 "${work}/${service}.log"
    failures=$((failures + 1))
  fi
  # As the kubelet's probe asks: plaintext, on the health port.
  if out="$("${kosapo}" health --plaintext --address="127.0.0.1:${HEALTH_OF[${service}]}" \
    --service="${name}" --wait=20s 2>&1)"; then
    echo "ok   kosapo-${service} health port: ${out}"
  else
    echo "FAIL kosapo-${service} health port: ${out}"
    failures=$((failures + 1))
  fi
}

migrate_pod screening
start_pod screening
check_serving screening kosapo.screening.v1.ScreeningService
migrate_pod case
start_pod case
check_serving case kosapo.cases.v1.CaseService
for service in screening case; do
  if ! grep -q '"message":"schema checked' "${work}/${service}.log"; then
    echo "FAIL kosapo-${service} (main container) did not check the migrations"
    failures=$((failures + 1))
  fi
done
if grep -q '"severity":"error"' "${work}/case.log" "${work}/screening.log"; then
  echo "FAIL errors logged:"
  grep -h '"severity":"error"' "${work}/case.log" "${work}/screening.log" | head -n 5
  failures=$((failures + 1))
fi

for service in case screening; do
  kill -TERM "${PID[${service}]}"
  if [[ "${service}" == case ]]; then
    # The case pod followed the screening feed: through dns:///localhost,
    # with the certificate from its mounted Secret (the stream ends as case
    # drains).
    feed='EventFeed/WatchEvents.*"peer":"service/case".*"role":"service"'
    for _ in $(seq 50); do
      grep -q "${feed}" "${work}/screening.log" && break
      sleep 0.1
    done
    if grep -q "${feed}" "${work}/screening.log"; then
      echo "ok   kosapo-case followed the screening feed with its certificate"
    else
      echo "FAIL kosapo-case never called the screening feed as a service"
      failures=$((failures + 1))
    fi
  fi
  status=0
  wait "${PID[${service}]}" || status=$?
  unset "PID[${service}]"
  if [[ "${status}" -eq 0 ]] && grep -q '"message":"drained: server stopped"' "${work}/${service}.log"; then
    echo "ok   kosapo-${service} drained and exited 0 on SIGTERM"
  else
    echo "FAIL kosapo-${service} exited ${status} on SIGTERM"
    tail -n 3 "${work}/${service}.log"
    failures=$((failures + 1))
  fi
done

echo "image run checks: $((9 - failures)) passed, ${failures} failed"
[[ "${failures}" -eq 0 ]]
