#!/usr/bin/env bash
# A throwaway or local PostgreSQL 15 cluster, run as an unprivileged user.
#
# Usage:
#   pg-local.sh start DATA_DIR [PORT]
#   pg-local.sh provision DATA_DIR DB_NAME SERVICE:SCHEMA...
#   pg-local.sh url DATA_DIR SERVICE DB_NAME [--owner]
#   pg-local.sh admin-url DATA_DIR DB_NAME
#   pg-local.sh stop DATA_DIR [fast|immediate]
#   pg-local.sh destroy DATA_DIR
#   pg-local.sh sweep PARENT_DIR [--destroy]
#
# Results go to stdout (a port, URLs); progress and errors go to stderr.
#
# Roles: provision makes two login roles per service. kosapo_SERVICE_owner
# owns the schema and everything in it and runs the migrations;
# kosapo_SERVICE is the role the service runs as, granted its privileges by
# the service itself after migrating (common/pg/migrations.h). provision
# prints SERVICE=URL (runtime) and SERVICE.owner=URL (owner) lines; `url
# ... --owner` prints the owner's. A data directory provisioned when the
# runtime role owned the schema is converted: what it owned passes to the
# owner role.
#
# Environment:
#   KOSAPO_PG_FAST=1   trade durability for speed (fsync and full_page_writes
#                      off): a crash of the server loses no commit, a crash
#                      of the machine may; for test clusters only.
#   KOSAPO_PG_BINDIR   directory holding initdb and pg_ctl (found otherwise).
#
# PostgreSQL refuses to run as root: when this script runs as root, the
# server programs run as the `postgres` system user (created by the
# postgresql-15 package) and the files the server writes are owned by it.
#
# Layout of DATA_DIR:
#   .kosapo-pg-local   marker: this directory is ours (destroy checks it)
#   pgdata/            the cluster (a symlink when it lives under /tmp, see
#                      external_dir)
#   postgres.log       server log (a symlink likewise)
#   initdb.log         output of initdb
#   port               the server's TCP port (on 127.0.0.1)
#   socket_dir         the server's unix socket directory: DATA_DIR/run, or a
#                      short directory under /tmp when DATA_DIR/run would be
#                      too long for a socket path or has unusual characters
#   external_dir       only as root, when the postgres user cannot reach
#                      DATA_DIR: the /tmp directory holding pgdata and the log
#   passwords/SERVICE  password of role kosapo_SERVICE (mode 600)
#   passwords/SERVICE.owner  password of role kosapo_SERVICE_owner
set -euo pipefail

readonly PROG="pg-local.sh"
readonly MARKER=".kosapo-pg-local"
readonly SUPERUSER="postgres"
# A unix socket path is at most 107 bytes; the server appends
# "/.s.PGSQL.NNNNN" (15 bytes) to the directory.
readonly MAX_SOCKET_DIR_LEN=90
readonly SHORT_SOCKET_PREFIX="/tmp/kpg."
readonly EXTERNAL_PREFIX="/tmp/kosapo-pg."

die() {
  printf '%s: error: %s\n' "${PROG}" "$*" >&2
  exit 1
}
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

usage() {
  cat >&2 <<EOF
usage:
  ${PROG} start DATA_DIR [PORT]
  ${PROG} provision DATA_DIR DB_NAME SERVICE:SCHEMA...
  ${PROG} url DATA_DIR SERVICE DB_NAME [--owner]
  ${PROG} admin-url DATA_DIR DB_NAME
  ${PROG} stop DATA_DIR [fast|immediate]
  ${PROG} destroy DATA_DIR
  ${PROG} sweep PARENT_DIR [--destroy]
EOF
  exit 2
}

# libpq and the server read PG* variables (PGHOST, PGPORT, PGDATA, ...); every
# call below says what it means explicitly, so none of them may interfere.
while read -r var; do
  unset "${var}"
done < <(compgen -e | grep '^PG' || true)

# runuser lives in /usr/sbin, which a normal user's PATH may lack.
export PATH="${PATH:-/usr/bin:/bin}:/usr/sbin:/sbin"

AS_ROOT=0
if [[ "$(id -u)" -eq 0 ]]; then
  AS_ROOT=1
fi
readonly AS_ROOT

# Runs a command as the user the server runs as; from /, which that user
# can always enter (paths given to commands here are absolute).
as_pg() {
  if ((AS_ROOT)); then
    (cd / && exec runuser -u "${SUPERUSER}" -- "$@")
  else
    "$@"
  fi
}

# Gives a file or directory to the user the server runs as.
give_to_pg() {
  if ((AS_ROOT)); then
    chown "${SUPERUSER}:" "$@"
  fi
}

check_root_setup() {
  if ((AS_ROOT)) && ! id -u "${SUPERUSER}" >/dev/null 2>&1; then
    die "running as root, but there is no '${SUPERUSER}' system user to" \
      "run the server as; install postgresql-15 (scripts/install-deps.sh)" \
      "or run as a normal user"
  fi
}

BINDIR=""
find_bindir() {
  if [[ -n "${BINDIR}" ]]; then
    return
  fi
  local dir
  if [[ -n "${KOSAPO_PG_BINDIR:-}" ]]; then
    [[ -x "${KOSAPO_PG_BINDIR}/initdb" && -x "${KOSAPO_PG_BINDIR}/pg_ctl" ]] ||
      die "KOSAPO_PG_BINDIR=${KOSAPO_PG_BINDIR} has no initdb/pg_ctl"
    BINDIR="${KOSAPO_PG_BINDIR}"
    return
  fi
  # pg_config comes with libpq-dev; its bindir has the server programs only
  # when the matching server package is installed.
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "${dir}" && -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
      BINDIR="${dir}"
      return
    fi
  fi
  # Debian does not put the server programs on PATH. Prefer 15, the version
  # the project targets, then the newest installed.
  local candidates
  candidates="$(
    printf '%s\n' /usr/lib/postgresql/15/bin
    compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k4,4 -V -r || true
  )"
  while read -r dir; do
    if [[ -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then
      BINDIR="${dir}"
      return
    fi
  done <<<"${candidates}"
  die "PostgreSQL server programs (initdb, pg_ctl) not found; install" \
    "postgresql-15 (scripts/install-deps.sh) or set KOSAPO_PG_BINDIR"
}

abs_path() { realpath -m -- "$1"; }

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && (("$1" >= 1024 && "$1" <= 65535)); }

# SQL identifiers we create are plain lower-case names, so they need no
# quoting beyond double quotes and are safe in URLs.
valid_name() { [[ "$1" =~ ^[a-z_][a-z0-9_]{0,55}$ ]]; }

require_ours() {
  local dir="$1"
  [[ -d "${dir}" ]] || die "${dir} does not exist"
  [[ -f "${dir}/${MARKER}" ]] ||
    die "${dir} was not made by ${PROG} (no ${MARKER}); refusing to touch it"
}

pgdata_of() { readlink -f -- "$1/pgdata"; }

cluster_exists() { [[ -f "$1/pgdata/PG_VERSION" ]]; }

is_running() {
  local dir="$1"
  cluster_exists "${dir}" || return 1
  find_bindir
  as_pg "${BINDIR}/pg_ctl" status -D "$(pgdata_of "${dir}")" >/dev/null 2>&1
}

# Prints the TCP ports something listens on, from /proc (no extra tools).
listening_ports() {
  local _sl local_addr _rem st _rest
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    while read -r _sl local_addr _rem st _rest; do
      if [[ "${st}" == "0A" ]]; then
        echo "$((16#${local_addr##*:}))"
      fi
    done
}

# Prints a port nothing listens on. It is drawn below the kernel's ephemeral
# range, so that programs binding port 0 (gRPC servers in tests) and outgoing
# connections never get it while the cluster is stopped for a while.
pick_free_port() {
  local eph_lo=32768 eph_hi=60999 lo hi
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range
  fi
  lo=20000
  hi=$((eph_lo - 1))
  if ((hi - lo < 1000)); then
    lo=$((eph_hi + 1))
    hi=65535
    if ((hi - lo < 1000)); then
      lo=20000
    fi
  fi
  local used port i
  used=" $(listening_ports | tr '\n' ' ') "
  for ((i = 0; i < 200; i++)); do
    port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    if [[ "${used}" != *" ${port} "* ]]; then
      echo "${port}"
      return
    fi
  done
  die "found no free TCP port in ${lo}-${hi}"
}

# Makes DATA_DIR if needed and marks it as ours. An existing directory must
# be ours already or empty (a fresh mktemp -d).
prepare_dir() {
  local dir="$1"
  if [[ -e "${dir}" && ! -d "${dir}" ]]; then
    die "${dir} exists and is not a directory"
  fi
  if [[ -d "${dir}" && ! -f "${dir}/${MARKER}" ]] &&
    [[ -n "$(ls -A -- "${dir}")" ]]; then
    die "${dir} is not empty and was not made by ${PROG}; refusing to use it"
  fi
  mkdir -p -- "${dir}"
  touch -- "${dir}/${MARKER}"
  if ((AS_ROOT)); then
    # The server (user postgres) must traverse it; it cannot list it.
    chmod 711 -- "${dir}"
  else
    chmod 700 -- "${dir}"
  fi
}

# Chooses, creates and records the socket directory.
make_socket_dir() {
  local dir="$1" sock="$1/run"
  if ((${#sock} > MAX_SOCKET_DIR_LEN)) || [[ ! "${sock}" =~ ^[A-Za-z0-9._/-]+$ ]]; then
    sock="$(mktemp -d "${SHORT_SOCKET_PREFIX}XXXXXX")"
  else
    mkdir -p -- "${sock}"
  fi
  chmod 700 -- "${sock}"
  give_to_pg "${sock}"
  printf '%s\n' "${sock}" >"${dir}/socket_dir"
}

# Recreates a recorded socket directory that has vanished (a /tmp cleaner).
ensure_socket_dir() {
  local dir="$1" sock
  if [[ ! -s "${dir}/socket_dir" ]]; then
    make_socket_dir "${dir}"
    return
  fi
  sock="$(<"${dir}/socket_dir")"
  if [[ ! -d "${sock}" ]]; then
    if [[ "${sock}" == "${SHORT_SOCKET_PREFIX}"* ]]; then
      make_socket_dir "${dir}"
    else
      mkdir -p -- "${sock}"
      chmod 700 -- "${sock}"
      give_to_pg "${sock}"
    fi
  fi
}

init_cluster() {
  local dir="$1" home="$1"
  find_bindir
  if ((AS_ROOT)) && ! as_pg test -x "${dir}"; then
    # A parent of DATA_DIR is closed to other users (e.g. under /root): keep
    # the server's files under /tmp and link them from DATA_DIR.
    home="$(mktemp -d "${EXTERNAL_PREFIX}XXXXXX")"
    chmod 700 -- "${home}"
    give_to_pg "${home}"
    printf '%s\n' "${home}" >"${dir}/external_dir"
    ln -sfn -- "${home}/pgdata" "${dir}/pgdata"
    ln -sfn -- "${home}/postgres.log" "${dir}/postgres.log"
    log "the postgres user cannot reach ${dir}; cluster files are in ${home}"
  fi
  rm -rf -- "${home}/pgdata"
  mkdir -m 700 -- "${home}/pgdata"
  touch -- "${home}/postgres.log"
  chmod 600 -- "${home}/postgres.log"
  give_to_pg "${home}/pgdata" "${home}/postgres.log"

  local locale="C"
  if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    locale="C.UTF-8"
  fi
  local -a args=(-D "${home}/pgdata" -U "${SUPERUSER}" -E UTF8
    "--locale=${locale}" --auth-local=trust --auth-host=scram-sha-256)
  if [[ "${KOSAPO_PG_FAST:-0}" == "1" ]]; then
    args+=(--no-sync)
  fi
  log "initdb ${home}/pgdata (log: ${dir}/initdb.log)"
  if ! as_pg "${BINDIR}/initdb" "${args[@]}" >"${dir}/initdb.log" 2>&1; then
    cat "${dir}/initdb.log" >&2
    die "initdb failed"
  fi
  # Settings this script owns live in kosapo.conf, rewritten on every start.
  printf "\n# Added by %s: its settings, rewritten on every start.\n%s\n" \
    "${PROG}" "include_if_exists = 'kosapo.conf'" \
    >>"${home}/pgdata/postgresql.conf"
}

write_conf() {
  local dir="$1" port="$2" pgdata sock conf
  pgdata="$(pgdata_of "${dir}")"
  sock="$(<"${dir}/socket_dir")"
  conf="${pgdata}/kosapo.conf"
  {
    echo "# Written by ${PROG} on every start: edit postgresql.conf instead."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = ${port}"
    echo "unix_socket_directories = '${sock}'"
    # Local connections are trusted: only this user (and root) may connect.
    echo "unix_socket_permissions = 0700"
    echo "max_connections = 200"
    if [[ "${KOSAPO_PG_FAST:-0}" == "1" ]]; then
      echo "# KOSAPO_PG_FAST=1: a crash of the machine can lose or corrupt data."
      echo "fsync = off"
      echo "full_page_writes = off"
      # synchronous_commit stays on: with fsync off a commit costs only a
      # write(), and a server crash (pg_ctl stop -m immediate, which tests
      # use to simulate an outage) then keeps every committed transaction.
      echo "synchronous_commit = on"
    else
      echo "fsync = on"
      echo "full_page_writes = on"
      echo "synchronous_commit = on"
    fi
  } >"${conf}"
  chmod 600 -- "${conf}"
  give_to_pg "${conf}"
}

# Starts the server; on failure prints what it logged and returns 1.
start_server() {
  local dir="$1" logfile size
  logfile="$(readlink -f -- "${dir}/postgres.log")"
  size="$(stat -c %s -- "${logfile}")"
  if as_pg "${BINDIR}/pg_ctl" start -w -t 60 -s -D "$(pgdata_of "${dir}")" \
    -l "${logfile}" >&2; then
    return 0
  fi
  tail -c "+$((size + 1))" -- "${logfile}" >"${dir}/last_start.log" || true
  return 1
}

cmd_start() {
  (($# >= 1 && $# <= 2)) || usage
  local dir port_arg="${2:-}"
  dir="$(abs_path "$1")"
  if [[ -n "${port_arg}" ]] && ! valid_port "${port_arg}"; then
    die "invalid port '${port_arg}' (want 1024-65535)"
  fi
  check_root_setup
  find_bindir
  prepare_dir "${dir}"

  if is_running "${dir}"; then
    local running
    running="$(<"${dir}/port")"
    if [[ -n "${port_arg}" && "${port_arg}" != "${running}" ]]; then
      die "already running on port ${running}, not ${port_arg}"
    fi
    log "already running"
    echo "${running}"
    return
  fi

  if ! cluster_exists "${dir}"; then
    make_socket_dir "${dir}"
    init_cluster "${dir}"
  fi
  local version
  version="$(<"${dir}/pgdata/PG_VERSION")"
  if [[ "$("${BINDIR}/pg_ctl" --version)" != *" ${version}."* ]]; then
    die "the cluster in ${dir} is PostgreSQL ${version}, but ${BINDIR} is" \
      "$("${BINDIR}/pg_ctl" --version)"
  fi
  ensure_socket_dir "${dir}"

  # A picked port can be taken between the pick and the bind: pick again.
  local port pick=1 attempt
  if [[ -n "${port_arg}" ]]; then
    port="${port_arg}"
    pick=0
  elif [[ -s "${dir}/port" ]]; then
    port="$(<"${dir}/port")"
    pick=0
  fi
  for attempt in 1 2 3 4 5; do
    if ((pick)); then
      port="$(pick_free_port)"
    fi
    write_conf "${dir}" "${port}"
    printf '%s\n' "${port}" >"${dir}/port"
    if start_server "${dir}"; then
      rm -f -- "${dir}/last_start.log"
      echo "${port}"
      return
    fi
    if ((pick)) && grep -q 'could not bind\|could not create any TCP' \
      "${dir}/last_start.log"; then
      log "port ${port} was taken (attempt ${attempt}); picking another"
      continue
    fi
    break
  done
  cat "${dir}/last_start.log" >&2 || true
  die "could not start the server in ${dir} on port ${port}" \
    "(log: ${dir}/postgres.log)"
}

# Runs SQL from stdin as the superuser, over the unix socket.
psql_admin() {
  local dir="$1" db="$2"
  find_bindir
  {
    echo "SET client_min_messages = warning;"
    cat
  } | as_pg "${BINDIR}/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$(<"${dir}/socket_dir")" -p "$(<"${dir}/port")" -U "${SUPERUSER}" \
    -d "${db}" -f - >&2
}

# Prints the password of a service's role, making it on first use.
password_of() {
  local dir="$1" service="$2" file
  file="${dir}/passwords/${service}"
  if [[ ! -s "${file}" ]]; then
    (
      umask 077
      mkdir -p -- "${dir}/passwords"
      od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"${file}.tmp"
      mv -f -- "${file}.tmp" "${file}"
    )
  fi
  chmod 600 -- "${file}"
  cat -- "${file}"
}

# Prints the URL of a service's role: the runtime role, or with KIND=owner
# the owner role.
service_url() {
  local dir="$1" service="$2" db="$3" kind="${4:-runtime}" file role
  file="${dir}/passwords/${service}"
  role="kosapo_${service}"
  if [[ "${kind}" == "owner" ]]; then
    file="${file}.owner"
    role="${role}_owner"
  fi
  [[ -s "${file}" ]] ||
    die "no role ${role} in ${dir}; run provision first"
  [[ -s "${dir}/port" ]] || die "${dir} has no port; run start first"
  printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' \
    "${role}" "$(<"${file}")" "$(<"${dir}/port")" "${db}"
}

# Prints the SQL that creates login role $1 (if missing) with password $2.
login_role_sql() {
  local role="$1" pw="$2"
  echo "SELECT format('CREATE ROLE %I', '${role}')"
  echo "  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}')"
  echo "\\gexec"
  echo "ALTER ROLE \"${role}\" WITH LOGIN NOSUPERUSER NOCREATEDB"
  echo "  NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '${pw}';"
}

cmd_provision() {
  (($# >= 3)) || usage
  local dir db="$2"
  dir="$(abs_path "$1")"
  shift 2
  valid_name "${db}" || die "invalid database name '${db}' (want [a-z_][a-z0-9_]*)"
  check_root_setup
  require_ours "${dir}"
  is_running "${dir}" || die "the cluster in ${dir} is not running; start it first"

  local spec service schema role owner
  local -a services=() schemas=()
  for spec in "$@"; do
    [[ "${spec}" == *:* ]] || die "'${spec}' is not SERVICE:SCHEMA"
    service="${spec%%:*}"
    schema="${spec#*:}"
    valid_name "${service}" || die "invalid service name '${service}'"
    # PostgreSQL cuts names at 63 bytes: kosapo_SERVICE_owner must fit.
    ((${#service} <= 50)) || die "service name '${service}' is too long (max 50)"
    valid_name "${schema}" || die "invalid schema name '${schema}'"
    if [[ "${schema}" == "public" || "${schema}" == pg_* ]]; then
      die "schema '${schema}' is reserved"
    fi
    if [[ " ${services[*]} " == *" ${service} "* ]]; then
      die "service '${service}' given twice"
    fi
    if [[ " ${schemas[*]} " == *" ${schema} "* ]]; then
      die "schema '${schema}' given twice"
    fi
    services+=("${service}")
    schemas+=("${schema}")
  done

  # Roles and the database are cluster-wide: made from the postgres database.
  local i
  {
    echo "SELECT format('CREATE DATABASE %I', '${db}')"
    echo "  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')"
    echo "\\gexec"
    for i in "${!services[@]}"; do
      login_role_sql "kosapo_${services[i]}" \
        "$(password_of "${dir}" "${services[i]}")"
      login_role_sql "kosapo_${services[i]}_owner" \
        "$(password_of "${dir}" "${services[i]}.owner")"
    done
  } | psql_admin "${dir}" postgres || die "provisioning roles failed"

  # The owner role owns each schema; the runtime role may connect and make
  # temporary tables, and gets its privileges in the schema from the service
  # once it has migrated. REASSIGN OWNED converts a data directory from when
  # the runtime role owned its schema.
  {
    echo "BEGIN;"
    echo "REVOKE ALL ON SCHEMA public FROM PUBLIC;"
    echo "REVOKE CONNECT, TEMPORARY ON DATABASE \"${db}\" FROM PUBLIC;"
    for i in "${!services[@]}"; do
      role="kosapo_${services[i]}"
      owner="${role}_owner"
      schema="${schemas[i]}"
      echo "CREATE SCHEMA IF NOT EXISTS \"${schema}\" AUTHORIZATION \"${owner}\";"
      echo "REASSIGN OWNED BY \"${role}\" TO \"${owner}\";"
      echo "ALTER SCHEMA \"${schema}\" OWNER TO \"${owner}\";"
      echo "GRANT CONNECT, TEMPORARY ON DATABASE \"${db}\" TO \"${role}\";"
      echo "GRANT CONNECT ON DATABASE \"${db}\" TO \"${owner}\";"
      echo "ALTER ROLE \"${role}\" IN DATABASE \"${db}\""
      echo "  SET search_path = \"${schema}\";"
      echo "ALTER ROLE \"${owner}\" IN DATABASE \"${db}\""
      echo "  SET search_path = \"${schema}\";"
    done
    echo "COMMIT;"
  } | psql_admin "${dir}" "${db}" || die "provisioning schemas failed"

  for service in "${services[@]}"; do
    printf '%s=%s' "${service}" "$(service_url "${dir}" "${service}" "${db}")"
    echo
    printf '%s.owner=%s' "${service}" \
      "$(service_url "${dir}" "${service}" "${db}" owner)"
    echo
  done
}

cmd_url() {
  (($# == 3 || $# == 4)) || usage
  local dir kind=runtime
  dir="$(abs_path "$1")"
  valid_name "$2" || die "invalid service name '$2'"
  valid_name "$3" || die "invalid database name '$3'"
  if (($# == 4)); then
    [[ "$4" == "--owner" ]] || usage
    kind=owner
  fi
  require_ours "${dir}"
  service_url "${dir}" "$2" "$3" "${kind}"
}

cmd_admin_url() {
  (($# == 2)) || usage
  local dir
  dir="$(abs_path "$1")"
  valid_name "$2" || die "invalid database name '$2'"
  require_ours "${dir}"
  [[ -s "${dir}/port" && -s "${dir}/socket_dir" ]] ||
    die "${dir} has no port or socket directory; run start first"
  # The socket directory holds only [A-Za-z0-9._/-] (make_socket_dir), so it
  # needs no percent-encoding.
  printf 'postgresql://%s@/%s?host=%s&port=%s\n' "${SUPERUSER}" "$2" \
    "$(<"${dir}/socket_dir")" "$(<"${dir}/port")"
}

# Stops the server in DATA_DIR if it runs. MODE: fast (falls back to
# immediate) or immediate (a crash: the next start runs recovery).
stop_dir() {
  local dir="$1" mode="$2" pgdata
  if ! is_running "${dir}"; then
    return 0
  fi
  pgdata="$(pgdata_of "${dir}")"
  if [[ "${mode}" == "fast" ]]; then
    if as_pg "${BINDIR}/pg_ctl" stop -s -w -t 30 -m fast -D "${pgdata}" >&2; then
      return 0
    fi
    log "fast shutdown of ${dir} failed; trying immediate"
  fi
  as_pg "${BINDIR}/pg_ctl" stop -s -w -t 30 -m immediate -D "${pgdata}" >&2
}

cmd_stop() {
  (($# >= 1 && $# <= 2)) || usage
  local dir mode="${2:-fast}"
  dir="$(abs_path "$1")"
  [[ "${mode}" == "fast" || "${mode}" == "immediate" ]] || usage
  if [[ ! -e "${dir}" ]]; then
    log "${dir} does not exist; nothing to stop"
    return
  fi
  check_root_setup
  require_ours "${dir}"
  stop_dir "${dir}" "${mode}" || die "could not stop the server in ${dir}"
}

# Stops and removes one DATA_DIR with everything it made outside itself.
destroy_dir() {
  local dir="$1" pid extra
  if ! stop_dir "${dir}" fast; then
    # Last resort, so that no server outlives its files.
    pid="$(head -n 1 -- "$(pgdata_of "${dir}")/postmaster.pid" 2>/dev/null || true)"
    if [[ "${pid}" =~ ^[0-9]+$ ]]; then
      log "killing postmaster ${pid} of ${dir}"
      kill -KILL "${pid}" 2>/dev/null || true
      sleep 1
    fi
  fi
  for extra in socket_dir external_dir; do
    if [[ -s "${dir}/${extra}" ]]; then
      local path
      path="$(<"${dir}/${extra}")"
      # Only what this script made with mktemp under /tmp.
      if [[ "${path}" =~ ^(${SHORT_SOCKET_PREFIX}|${EXTERNAL_PREFIX})[A-Za-z0-9]+$ ]]; then
        rm -rf -- "${path}"
      fi
    fi
  done
  rm -rf -- "${dir}"
}

cmd_destroy() {
  (($# == 1)) || usage
  local dir
  dir="$(abs_path "$1")"
  if [[ ! -e "${dir}" ]]; then
    log "${dir} does not exist; nothing to destroy"
    return
  fi
  check_root_setup
  require_ours "${dir}"
  destroy_dir "${dir}"
}

cmd_sweep() {
  (($# >= 1 && $# <= 2)) || usage
  local parent destroy=0 failed=0 marker dir
  parent="$(abs_path "$1")"
  if (($# == 2)); then
    [[ "$2" == "--destroy" ]] || usage
    destroy=1
  fi
  if [[ ! -d "${parent}" ]]; then
    log "${parent} does not exist; nothing to sweep"
    return
  fi
  check_root_setup
  while IFS= read -r -d '' marker; do
    dir="$(dirname -- "${marker}")"
    if ((destroy)); then
      log "destroying ${dir}"
      destroy_dir "${dir}" || failed=1
    elif is_running "${dir}"; then
      log "stopping ${dir}"
      stop_dir "${dir}" fast || failed=1
    fi
  done < <(find "${parent}" -xdev -name pgdata -prune -o \
    -type f -name "${MARKER}" -print0)
  ((failed == 0)) || die "some clusters below ${parent} could not be stopped"
}

main() {
  (($# >= 1)) || usage
  local cmd="$1"
  shift
  case "${cmd}" in
    start) cmd_start "$@" ;;
    provision) cmd_provision "$@" ;;
    url) cmd_url "$@" ;;
    admin-url) cmd_admin_url "$@" ;;
    stop) cmd_stop "$@" ;;
    destroy) cmd_destroy "$@" ;;
    sweep) cmd_sweep "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
