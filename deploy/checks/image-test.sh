#!/usr/bin/env bash
# Checks the Dockerfile without a container engine (CTest label "deploy"):
#  1. the Dockerfile's stages: Debian 12 build stage, every RUN is a command
#     of scripts/build-image-stage.sh, one FROM-scratch target per image it
#     assembles, each non-root with an exec-form entry point;
#  2. the build stage's packages are installed here and are a subset of
#     scripts/install-deps.sh (the image builds what CI builds);
#  3. `build-image-stage.sh rootfs` on this build tree, then in every root
#     filesystem: no shell, no setuid file, user 65532, time zones, the CP932
#     converter, and every binary starts (chroot, as user 65532) with only
#     what is in it.
# Usage: image-test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

source_dir="$1"
build_dir="$2"
stage="${source_dir}/scripts/build-image-stage.sh"
dockerfile="${source_dir}/Dockerfile"
failures=0
checks=0

fail() {
  printf 'FAIL %s\n' "$*"
  failures=$((failures + 1))
}
pass() {
  checks=$((checks + 1))
}
expect() { # expect DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then pass; else fail "${what}"; fi
}

[[ -f "${dockerfile}" ]] || { echo "image-test: no Dockerfile at ${dockerfile}" >&2; exit 1; }
mapfile -t images < <("${stage}" images)

# 1. The Dockerfile.
# Instructions, with continuation lines joined.
mapfile -t instructions < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "${dockerfile}" |
  grep -Ev '^\s*(#|$)')
base_arg="$(grep -E '^ARG DEBIAN_IMAGE=' "${dockerfile}" | cut -d= -f2-)"
expect "Dockerfile: the build stage's base (ARG DEBIAN_IMAGE=${base_arg}) must be Debian 12" \
  grep -Eq '^debian:(12|bookworm)([-.@][^ ]*)?$' <<<"${base_arg}"
expect "Dockerfile: the build stage must be FROM \${DEBIAN_IMAGE} AS build" \
  grep -Eq '^FROM \$\{DEBIAN_IMAGE\} AS build$' "${dockerfile}"
copied_as="$(grep -E '^COPY scripts/build-image-stage.sh ' "${dockerfile}" | awk '{print $3}')"
expect "Dockerfile: must copy scripts/build-image-stage.sh into the build stage" test -n "${copied_as}"
for line in "${instructions[@]}"; do
  if [[ "${line}" =~ ^RUN ]]; then
    # Exec form, calling the shared script with a command it knows.
    if [[ "${line}" =~ ^RUN\ \[\"$(basename "${copied_as:-none}")\",\ \"(build-deps|build|rootfs)\" ]]; then
      pass
    else
      fail "Dockerfile: '${line}' is not a command of scripts/build-image-stage.sh (CI could not exercise it)"
    fi
  fi
done
for image in "${images[@]}"; do
  # The instructions of the stage named after the image, up to the next FROM.
  block="$(awk -v image="${image}" '
    /^FROM / { inside = ($0 ~ (" AS " image "$")) }
    inside' "${dockerfile}")"
  if [[ -z "${block}" ]]; then
    fail "Dockerfile: no target '${image}' (build-image-stage.sh assembles it)"
    continue
  fi
  expect "Dockerfile ${image}: must be FROM scratch" grep -q "^FROM scratch AS ${image}$" <<<"${block}"
  expect "Dockerfile ${image}: must copy /rootfs/${image}/ from the build stage" \
    grep -q "^COPY --from=build /rootfs/${image}/ /$" <<<"${block}"
  expect "Dockerfile ${image}: must run as USER 65532:65532 (numeric, for runAsNonRoot)" \
    grep -q '^USER 65532:65532$' <<<"${block}"
  entry="$(grep -E '^(ENTRYPOINT|CMD) ' <<<"${block}" || true)"
  expect "Dockerfile ${image}: ENTRYPOINT/CMD must be exec form (there is no shell)" \
    grep -Eq '^(ENTRYPOINT|CMD) \[' <<<"${entry}"
  for binary in $("${stage}" binaries "${image}"); do
    expect "Dockerfile ${image}: ENTRYPOINT must be /usr/local/bin/${binary}" \
      grep -q "^ENTRYPOINT \[\"/usr/local/bin/${binary}\"\]" <<<"${block}"
  done
done

# 2. Packages.
if "${stage}" build-deps --check >/dev/null 2>&1; then pass; else
  fail "build stage packages: $("${stage}" build-deps --check 2>&1 | tail -n1)"
fi
install_packages="$(sed -n '/^readonly PACKAGES=(/,/^)/p' "${source_dir}/scripts/install-deps.sh" |
  sed 's/#.*//' | tr -s ' ()' '\n' | grep -Ev '^(readonly|PACKAGES=|)$' || true)"
for pkg in $("${stage}" build-packages); do
  case "${pkg}" in ca-certificates | tzdata | binutils) continue ;; esac
  expect "build stage package ${pkg} is not in scripts/install-deps.sh" \
    grep -qx "${pkg}" <<<"${install_packages}"
done

# 3. The root filesystems.
if [[ "$(id -u)" -eq 0 ]]; then
  chroot_cmd=(chroot --userspec=65532:65532)
elif unshare -r true 2>/dev/null; then
  # Root in a user namespace may chroot; it cannot switch to 65532 there.
  chroot_cmd=(unshare -r chroot)
else
  echo "image-test: needs root or user namespaces (unshare -r) to chroot into the images" >&2
  exit 1
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/kosapo-image-test.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
if ! "${stage}" rootfs "${build_dir}" "${work}" 2>"${work}/rootfs.log"; then
  cat "${work}/rootfs.log"
  fail "build-image-stage.sh rootfs failed"
else
  pass
fi
for image in "${images[@]}"; do
  root="${work}/${image}"
  [[ -d "${root}" ]] || { fail "${image}: no root filesystem"; continue; }
  shells="$(find "${root}" \( -name sh -o -name bash -o -name dash -o -name busybox \) -print)"
  expect "${image}: contains a shell: ${shells}" test -z "${shells}"
  setuid="$(find "${root}" -perm /6000 -type f -print)"
  expect "${image}: setuid/setgid files: ${setuid}" test -z "${setuid}"
  expect "${image}: user 65532 missing from /etc/passwd" grep -q ':65532:65532:' "${root}/etc/passwd"
  expect "${image}: no time zone Asia/Tokyo" test -f "${root}/usr/share/zoneinfo/Asia/Tokyo"
  expect "${image}: no CA certificates" test -s "${root}/etc/ssl/certs/ca-certificates.crt"
  expect "${image}: no dpkg records for scanners" test -s "${root}/var/lib/dpkg/status.d/libc6"
  for binary in $("${stage}" binaries "${image}"); do
    case "${binary}" in
      kosapo) args=(health --plaintext --address=127.0.0.1:1 --timeout=100ms); want=3 ;;
      *) args=(--help); want=0 ;;
    esac
    set +e
    output="$("${chroot_cmd[@]}" "${root}" "/usr/local/bin/${binary}" "${args[@]}" 2>&1)"
    status=$?
    set -e
    if [[ "${status}" -ne "${want}" ]] || grep -q 'error while loading shared libraries' <<<"${output}"; then
      fail "${image}: /usr/local/bin/${binary} ${args[*]} exited ${status} (want ${want}): $(head -n2 <<<"${output}")"
    else
      pass
    fi
  done
  expect "${image}: no CP932 converter (common/csv reads CP932 through iconv)" \
    test -n "$(find "${root}" -name CP932.so -print -quit)"
done

echo "image checks: ${checks} passed, ${failures} failed"
[[ "${failures}" -eq 0 ]]
