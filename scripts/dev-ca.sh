#!/usr/bin/env bash
# Creates a development certificate authority and mutual-TLS certificates in
# DIR, if missing:
#   DIR/ca.crt, DIR/ca.key                 the CA (EC P-256, 10 years)
#   DIR/service/<name>/{tls.crt,tls.key,ca.crt}
#       a service's certificate: URI SAN spiffe://kosapo/service/<name> (its
#       identity), DNS SANs <name>, kosapo-<name> (the Kubernetes Service)
#       and kosapo-<name>.<namespace>(.svc(.cluster.local)), localhost, and
#       IP SANs 127.0.0.1 and ::1; server and client use
#   DIR/client/<name>/{tls.crt,tls.key,ca.crt}
#       a client's certificate: URI SAN spiffe://kosapo/client/<name>
# The per-identity directories have the layout of a Kubernetes TLS Secret
# with ca.crt, so `kubectl create secret generic --from-file=DIR/service/case`
# makes the Secret the deployment mounts (deploy/README.md).
#
# usage: dev-ca.sh DIR [--service NAME]... [--client NAME]... [--renew]
#   Without --service/--client: services screening, case, referral,
#   reporting and client cli.
#   --renew  issue new certificates (and keys) for the named identities even
#            if they exist, keeping the CA: a rotation. Each file is replaced
#            by a rename, so a service watching it never reads half a file.
#   KOSAPO_DEV_CA_DNS="a.example b.example" adds DNS SANs to service
#   certificates, KOSAPO_DEV_CA_NAMESPACE is their Kubernetes namespace
#   (default kosapo-dev, the dev overlay's), KOSAPO_DEV_CA_DAYS their
#   validity (default 365).
# Idempotent otherwise: what exists is kept. For development and tests only;
# deployments get certificates from cert-manager (deploy/overlays/prod).
set -euo pipefail

usage() {
  echo "usage: $0 DIR [--service NAME]... [--client NAME]... [--renew]" >&2
  exit 2
}

[[ $# -ge 1 && -n "$1" && "$1" != --* ]] || usage
dir="$1"
shift
services=()
clients=()
renew=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --service) [[ $# -ge 2 ]] || usage; services+=("$2"); shift 2 ;;
    --client) [[ $# -ge 2 ]] || usage; clients+=("$2"); shift 2 ;;
    --renew) renew=true; shift ;;
    *) usage ;;
  esac
done
if [[ ${#services[@]} -eq 0 && ${#clients[@]} -eq 0 ]]; then
  services=(screening case referral reporting)
  clients=(cli)
fi
for name in "${services[@]}" "${clients[@]}"; do
  [[ "${name}" =~ ^[a-z0-9._-]{1,63}$ ]] || {
    echo "$0: invalid identity name '${name}' (use [a-z0-9._-])" >&2
    exit 2
  }
done
days="${KOSAPO_DEV_CA_DAYS:-365}"
namespace="${KOSAPO_DEV_CA_NAMESPACE:-kosapo-dev}"

command -v openssl >/dev/null || {
  echo "$0: openssl not found" >&2
  exit 1
}

mkdir -p -- "${dir}"
umask 077
work="$(mktemp -d "${dir}/.dev-ca.XXXXXX")"
trap 'rm -rf -- "${work}"' EXIT

new_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
    -out "$1" 2>/dev/null
}

# Moves $1 to $2 by a rename on the same file system.
install_file() {
  local tmp
  tmp="$(mktemp "$(dirname -- "$2")/.tmp.XXXXXX")"
  cat -- "$1" >"${tmp}"
  chmod "$3" -- "${tmp}"
  mv -f -- "${tmp}" "$2"
}

if [[ ! -s "${dir}/ca.crt" || ! -s "${dir}/ca.key" ]]; then
  new_key "${work}/ca.key"
  openssl req -x509 -new -key "${work}/ca.key" -sha256 -days 3650 \
    -subj "/O=kosapo/CN=kosapo development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "${work}/ca.crt"
  install_file "${work}/ca.key" "${dir}/ca.key" 600
  install_file "${work}/ca.crt" "${dir}/ca.crt" 644
fi

# issue KIND NAME SAN EKU
issue() {
  local kind="$1" name="$2" san="$3" eku="$4"
  local out="${dir}/${kind}/${name}"
  if [[ "${renew}" == false && -s "${out}/tls.crt" && -s "${out}/tls.key" ]]; then
    return
  fi
  mkdir -p -- "${out}"
  local tmp="${work}/${kind}-${name}"
  new_key "${tmp}.key"
  openssl req -new -key "${tmp}.key" -subj "/O=kosapo/OU=${kind}/CN=${name}" \
    -out "${tmp}.csr"
  cat >"${tmp}.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=${eku}
subjectAltName=${san}
EXT
  openssl x509 -req -in "${tmp}.csr" -CA "${dir}/ca.crt" -CAkey "${dir}/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "${days}" -sha256 \
    -extfile "${tmp}.ext" -out "${tmp}.crt" 2>/dev/null
  # Key first: a watcher that reads between the renames sees a key that
  # does not match the old certificate and keeps the pair it has.
  install_file "${tmp}.key" "${out}/tls.key" 600
  install_file "${tmp}.crt" "${out}/tls.crt" 644
  install_file "${dir}/ca.crt" "${out}/ca.crt" 644
}

for name in "${services[@]}"; do
  host="kosapo-${name}"  # the Kubernetes Service (deploy/base)
  san="URI:spiffe://kosapo/service/${name},DNS:${name},DNS:${host}"
  san+=",DNS:${host}.${namespace},DNS:${host}.${namespace}.svc"
  san+=",DNS:${host}.${namespace}.svc.cluster.local"
  san+=",DNS:localhost,IP:127.0.0.1,IP:::1"
  for extra in ${KOSAPO_DEV_CA_DNS:-}; do
    san+=",DNS:${extra}"
  done
  issue service "${name}" "${san}" "serverAuth,clientAuth"
done
for name in "${clients[@]}"; do
  issue client "${name}" "URI:spiffe://kosapo/client/${name}" "clientAuth"
done
echo "${dir}"
