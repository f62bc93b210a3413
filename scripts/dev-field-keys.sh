#!/usr/bin/env bash
# Creates development keys for field-level encryption at rest in DIR, if
# missing, and prints the id of the active key:
#   DIR/<id>.key   32 random bytes in base64 (mode 0600), one per key id
#   DIR/active     the id new values are encrypted with (--field_key_id)
# The screening, case and referral services take DIR as --field_keys_dir
# (KOSAPO_FIELD_KEYS_DIR) and the id as --field_key_id (KOSAPO_FIELD_KEY_ID);
# `kubectl create secret generic --from-file=DIR/<id>.key ...` makes the
# Secret the deployment mounts (deploy/README.md). The services read only
# *.key files, so DIR/active is ignored by them.
#
# usage: dev-field-keys.sh DIR [--rotate]
#   --rotate  add a new key dev-<n+1> and make it the active one; the old
#             keys stay, as the services still need them to read what they
#             encrypted before (restart the services to switch).
# Idempotent otherwise. For development and tests only: production keys are
# made and kept as deploy/README.md says.
set -euo pipefail

usage() {
  echo "usage: $0 DIR [--rotate]" >&2
  exit 2
}

[[ $# -ge 1 && -n "$1" && "$1" != --* ]] || usage
dir="$1"
shift
rotate=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rotate) rotate=true ;;
    *) usage ;;
  esac
  shift
done

umask 077
mkdir -p "${dir}"

new_key() {
  local id="$1" tmp
  tmp="$(mktemp "${dir}/.${id}.XXXXXX")"
  openssl rand -base64 32 >"${tmp}"
  mv "${tmp}" "${dir}/${id}.key"
  echo "${id}" >"${dir}/active.tmp"
  mv "${dir}/active.tmp" "${dir}/active"
}

last=0
for file in "${dir}"/dev-*.key; do
  [[ -e "${file}" ]] || continue
  n="${file##*/dev-}"
  n="${n%.key}"
  [[ "${n}" =~ ^[0-9]+$ ]] && ((n > last)) && last="${n}"
done

if [[ "${last}" -eq 0 || ! -s "${dir}/active" ]]; then
  if [[ "${last}" -eq 0 ]]; then
    new_key dev-1
  else
    echo "dev-${last}" >"${dir}/active"
  fi
elif ${rotate}; then
  new_key "dev-$((last + 1))"
fi
cat "${dir}/active"
