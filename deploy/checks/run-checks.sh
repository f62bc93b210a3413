#!/usr/bin/env bash
# CTest entry point of the manifest checks (label "deploy"): renders every
# overlay with kubectl kustomize and checks it (check.js).
# Usage: run-checks.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir="$1"
build_dir="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node >/dev/null 2>&1; then
  echo "deploy checks: node not found; run scripts/install-deps.sh" >&2
  exit 1
fi
if ! command -v "${KUBECTL:-kubectl}" >/dev/null 2>&1; then
  echo "deploy checks: kubectl not found on PATH. The check renders the" \
    "overlays with 'kubectl kustomize' (offline); install kubectl 1.27 or" \
    "newer (it is not in Debian 12's archive) or set KUBECTL." >&2
  exit 1
fi
if [[ ! -d "${here}/node_modules/kubernetes-models" ]]; then
  echo "deploy checks: npm packages missing in ${here}/node_modules;" \
    "run scripts/install-deps.sh (npm ci)" >&2
  exit 1
fi
exec node "${here}/check.js" --source "${source_dir}" --build "${build_dir}" \
  --kubectl "$(command -v "${KUBECTL:-kubectl}")"
