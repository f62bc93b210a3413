#!/usr/bin/env bash
# Creates the development token-signing key pair in DIR, if missing:
#   DIR/jwt-es256.key  EC P-256 private key, PKCS#8 PEM, mode 600
#   DIR/jwt-es256.pub  its public key, SubjectPublicKeyInfo PEM
# Idempotent: an existing key is kept (and its mode tightened) and the public
# key is re-derived from it if missing or stale. For development and tests
# only; production keys come from the deployment's secret store.
set -euo pipefail

usage() {
  echo "usage: $0 DIR" >&2
  exit 2
}

[[ $# -eq 1 && -n "$1" ]] || usage
dir="$1"
key="${dir}/jwt-es256.key"
pub="${dir}/jwt-es256.pub"

command -v openssl >/dev/null || {
  echo "$0: openssl not found" >&2
  exit 1
}

mkdir -p -- "${dir}"
umask 077

# Write to a temporary file in DIR and rename, so a concurrent or interrupted
# run never leaves a half-written key behind.
tmp="$(mktemp "${dir}/.jwt-es256.XXXXXX")"
trap 'rm -f -- "${tmp}"' EXIT

if [[ ! -s "${key}" ]]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
    -out "${tmp}"
  chmod 600 -- "${tmp}"
  # -n: if a concurrent run got there first, keep its key.
  mv -n -- "${tmp}" "${key}" || true
  [[ -s "${key}" ]] || {
    echo "$0: could not create ${key}" >&2
    exit 1
  }
fi
chmod 600 -- "${key}"

# Always derive the public key, so it matches the key even if the key was
# replaced by hand; rewrite it only when it differs.
openssl pkey -in "${key}" -pubout -out "${tmp}"
if ! cmp -s -- "${tmp}" "${pub}"; then
  chmod 644 -- "${tmp}"
  mv -f -- "${tmp}" "${pub}"
fi
