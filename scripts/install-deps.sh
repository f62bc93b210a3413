#!/usr/bin/env bash
# Installs, from Debian 12's archive, everything kosapo needs to build, test
# and run. Idempotent: when every package is already installed it changes
# nothing and does not even refresh the package lists.
#
# Usage: scripts/install-deps.sh
#
# Runs as root, or as a normal user through sudo.
#
# Note: installing postgresql-15 makes Debian create and start a system
# cluster (15/main on port 5432). The project never uses it -- tests and the
# demo run their own clusters through scripts/pg-local.sh -- so it is left as
# the package set it up.
set -euo pipefail

readonly PACKAGES=(
  # Build tools.
  cmake ninja-build ccache pkg-config g++ clang-format
  # gRPC and protobuf.
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # Libraries.
  libabsl-dev libpqxx-dev libpq-dev nlohmann-json3-dev prometheus-cpp-dev
  libssl-dev
  # Tests and benchmarks.
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # Runtime: the database server the tests start, and openssl for
  # development certificates and keys.
  postgresql-15 openssl
  # The reporting service's exports: zlib deflates the XLSX workbook's zip;
  # the tests read the workbook back with minizip, render the HTML page in
  # headless Chromium with Japanese fonts and decode its screenshot with
  # libpng.
  zlib1g-dev libminizip-dev chromium fonts-noto-cjk libpng-dev
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The deployment checks (deploy/checks, CTest label "deploy") run on node
# with npm packages pinned by deploy/checks/package-lock.json, installed by
# `npm ci` into deploy/checks/node_modules (gitignored). Node and npm come
# from Debian only where the machine has none (Debian's npm conflicts with
# other Node.js builds). Skipped when the lock file is unchanged since the
# last install. kubectl, which the check also needs, is not in Debian 12:
# the check fails naming it when it is missing.
install_deploy_check_deps() {
  local dir="${root}/deploy/checks" stamp want
  [[ -f "${dir}/package-lock.json" ]] || return 0
  local -a node_packages=() sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
  command -v node >/dev/null 2>&1 || node_packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || node_packages+=(npm)
  if [[ ${#node_packages[@]} -gt 0 ]]; then
    log "installing ${node_packages[*]} for the deployment checks"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${node_packages[@]}"
  fi
  stamp="${dir}/node_modules/.kosapo-lock.sha256"
  want="$(sha256sum "${dir}/package-lock.json" | cut -d' ' -f1) $(node --version)"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    return 0
  fi
  log "installing the deployment checks' npm packages (npm ci in deploy/checks)"
  (cd "${dir}" && npm ci --no-audit --no-fund --loglevel=error) >&2
  printf '%s\n' "${want}" >"${stamp}"
}

# Prints, space-separated, the packages of PACKAGES not fully installed.
missing_packages() {
  local pkg status
  local -a missing=()
  for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null ||
      true)"
    if [[ "${status}" != "installed" ]]; then
      missing+=("${pkg}")
    fi
  done
  printf '%s' "${missing[*]}"
}

main() {
  if [[ $# -ne 0 ]]; then
    echo "usage: $0" >&2
    exit 2
  fi
  if ! command -v dpkg-query >/dev/null 2>&1 ||
    ! command -v apt-get >/dev/null 2>&1; then
    log "error: dpkg-query/apt-get not found; this script targets Debian 12"
    exit 1
  fi

  local missing
  missing="$(missing_packages)"
  if [[ -z "${missing}" ]]; then
    log "all ${#PACKAGES[@]} packages are already installed; nothing to do"
    install_deploy_check_deps
    return 0
  fi

  local -a sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      log "error: not root and sudo is not available; run as root or" \
        "install sudo. Missing packages: ${missing}"
      exit 1
    fi
  fi

  log "installing (with the rest of the list): ${missing}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  # Install the whole list, not just what was missing, so that apt also
  # upgrades a half-configured package it finds among them.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"

  missing="$(missing_packages)"
  if [[ -n "${missing}" ]]; then
    log "error: still not installed after apt-get: ${missing}"
    exit 1
  fi
  install_deploy_check_deps
  log "done"
}

main "$@"
