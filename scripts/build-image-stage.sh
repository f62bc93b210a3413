#!/usr/bin/env bash
# The commands of the Dockerfile's stages, in one script that the Dockerfile
# and CI both run, so the image build is exercised on a machine without a
# container engine: deploy/checks/image-test.sh runs `rootfs` on CI's own
# build and starts every binary inside the result with chroot, and
# deploy/checks/image-run-test.sh runs two images as pods would.
#
# Usage:
#   build-image-stage.sh build-deps [--check]
#       Installs (apt, Debian 12) the packages the build stage needs; with
#       --check only verifies they are installed (exit 1 naming the missing).
#   build-image-stage.sh build SRC_DIR BUILD_DIR
#       Configures (Release, Ninja) and builds the binaries the images ship.
#   build-image-stage.sh rootfs BUILD_DIR OUT_DIR [IMAGE...]
#       Assembles one root filesystem per image (all, or those named) under
#       OUT_DIR/<image>/: the image's binaries (stripped), exactly the shared
#       libraries they load (ldd closure, plus the CP932 iconv module the CSV
#       intake opens at run time), time zones, CA certificates, a non-root
#       user (65532), the dpkg records of every package a file came from (for
#       image scanners), and nothing else: no shell, no package manager.
#   build-image-stage.sh images | targets | binaries IMAGE | build-packages
#       Print the image names, the CMake targets, one image's binaries, or
#       the build packages (one a line), for the Dockerfile check.
#
# The final stages are `FROM scratch` plus one of these root filesystems.
set -euo pipefail

readonly PROG="build-image-stage.sh"
readonly USER_ID=65532
readonly IMAGES=(screening case referral reporting tools)
# CMake target and output name of every binary an image ships.
declare -A TARGET=(
  [kosapo-screening]=kosapo_screening_server
  [kosapo-case]=kosapo_case_server
  [kosapo-referral]=kosapo_referral_server
  [kosapo-reporting]=kosapo_reporting_server
  [kosapo]=kosapo_cli
)
# Where each binary lands in the build tree.
declare -A BUILT=(
  [kosapo-screening]=services/screening/kosapo-screening
  [kosapo-case]=services/case/kosapo-case
  [kosapo-referral]=services/referral/kosapo-referral
  [kosapo-reporting]=services/reporting/kosapo-reporting
  [kosapo]=tools/kosapo
)
declare -A IMAGE_BINARIES=(
  [screening]="kosapo-screening"
  [case]="kosapo-case"
  [referral]="kosapo-referral"
  [reporting]="kosapo-reporting"
  [tools]="kosapo"
)
# What configuring the whole project needs (the top-level CMakeLists.txt
# finds GTest too): a subset of scripts/install-deps.sh, without the
# database server, ccache and the formatters.
readonly BUILD_PACKAGES=(
  ca-certificates tzdata binutils
  cmake ninja-build pkg-config g++
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev libpq-dev nlohmann-json3-dev prometheus-cpp-dev
  libssl-dev
  googletest libgtest-dev libgmock-dev
  # zlib for the reporting exports; minizip and libpng for their tests,
  # which configuring the project looks for.
  zlib1g-dev libminizip-dev libpng-dev
)

die() {
  printf '%s: error: %s\n' "${PROG}" "$*" >&2
  exit 1
}
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

usage() {
  sed -n '/^# Usage:/,/^# The final/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

missing_build_packages() {
  local pkg status
  local -a missing=()
  for pkg in "${BUILD_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null || true)"
    [[ "${status}" == "installed" ]] || missing+=("${pkg}")
  done
  printf '%s' "${missing[*]}"
}

cmd_build_deps() {
  local missing
  missing="$(missing_build_packages)"
  if [[ "${1:-}" == "--check" ]]; then
    [[ -z "${missing}" ]] || die "build packages not installed: ${missing}"
    log "all ${#BUILD_PACKAGES[@]} build packages are installed"
    return 0
  fi
  [[ $# -eq 0 ]] || usage
  if [[ -z "${missing}" ]]; then
    log "build packages already installed"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${BUILD_PACKAGES[@]}"
  rm -rf /var/lib/apt/lists/*
  missing="$(missing_build_packages)"
  [[ -z "${missing}" ]] || die "still not installed: ${missing}"
}

cmd_build() {
  [[ $# -eq 2 ]] || usage
  local src="$1" build="$2" binary
  local -a targets=()
  for binary in "${!TARGET[@]}"; do
    targets+=("${TARGET[${binary}]}")
  done
  cmake -S "${src}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKOSAPO_WERROR=OFF
  cmake --build "${build}" -j "$(nproc)" --target "${targets[@]}"
}

# Prints the files the dynamic loader maps for FILE (ldd), one a line, as
# the paths it found them at; fails if any is missing.
library_closure() {
  local file="$1" out
  out="$(ldd "${file}")" || die "ldd failed on ${file}"
  if grep -q 'not found' <<<"${out}"; then
    die "${file} needs libraries that are not installed: $(grep 'not found' <<<"${out}" | tr -s ' \t' ' ')"
  fi
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux...so.2 (0x...)"
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"${out}"
}

# Where a system file goes in an image: into the directory its own directory
# resolves to under merged /usr, keeping the name it was asked for (the
# soname). Fills PLACE[file]=/usr/lib/.../name, one realpath per directory.
declare -A PLACE=()
place_files() {
  local path dir
  local -A real_dir=()
  for path in "$@"; do
    dir="${path%/*}"
    [[ -n "${real_dir[${dir}]:-}" ]] || real_dir["${dir}"]="$(realpath -m "${dir}")"
    PLACE["${path}"]="${real_dir[${dir}]}/${path##*/}"
  done
}

# Fills OWNER[file]=package for FILES (one dpkg-query); fails on a file no
# Debian package owns. Debian 12 records some files under /lib, others under
# /usr/lib (merged /usr), so both spellings are asked.
declare -A OWNER=()
find_owners() {
  local file spelling line owner found
  local -a spellings=()
  local -A owner_of=()
  for file in "$@"; do
    spellings+=("${file}" "/lib/${file#/usr/lib/}" "/usr/lib/${file#/lib/}")
  done
  # "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6"; unowned spellings only
  # print to stderr.
  while IFS= read -r line; do
    owner="${line%%: /*}"
    owner_of["/${line#*: /}"]="${owner%%:*}"
  done < <(dpkg-query -S "${spellings[@]}" 2>/dev/null || true)
  for file in "$@"; do
    found=""
    for spelling in "${file}" "/lib/${file#/usr/lib/}" "/usr/lib/${file#/lib/}"; do
      if [[ -n "${owner_of[${spelling}]:-}" ]]; then
        found="${owner_of[${spelling}]}"
        break
      fi
    done
    [[ -n "${found}" ]] || die "no Debian package owns ${file}"
    OWNER["${file}"]="${found}"
  done
}

# Assembles ROOT by hard-linking from STORE (so the images' common files are
# written once): the BINARIES, the system FILES (by their original paths),
# zoneinfo, the CA bundle, the non-root user, the loader cache, and the dpkg
# records of every package a file came from.
write_rootfs() {
  local root="$1" store="$2" binaries="$3"
  shift 3
  local path dir binary
  local -A by_dir=()
  local -A packages=([ca-certificates]=1 ["${OWNER[/usr/share/zoneinfo/Asia/Tokyo]}"]=1)
  local -a group=()
  rm -rf "${root}"
  mkdir -p "${root}/usr/local/bin" "${root}/usr/lib" "${root}/usr/lib64" \
    "${root}/etc/ssl/certs" "${root}/usr/share" "${root}/tmp" \
    "${root}/var/lib/dpkg/status.d" "${root}/home/nonroot"
  # Merged /usr, as on Debian 12: the loader's path is /lib64/ld-linux...
  ln -s usr/lib "${root}/lib"
  ln -s usr/lib64 "${root}/lib64"
  chmod 1777 "${root}/tmp"
  for binary in ${binaries}; do
    ln "${store}/bin/${binary}" "${root}/usr/local/bin/${binary}"
  done
  for path in "$@"; do
    by_dir["${PLACE[${path}]%/*}"]+="${store}${PLACE[${path}]}"$'\n'
    packages["${OWNER[${path}]}"]=1
  done
  for dir in "${!by_dir[@]}"; do
    mkdir -p "${root}${dir}"
    mapfile -t group <<<"${by_dir[${dir}]%$'\n'}"
    ln -t "${root}${dir}" "${group[@]}"
  done
  # Time zones (absl reads /usr/share/zoneinfo; --time_zone may name any);
  # CA certificates for TLS peers.
  cp -al "${store}/usr/share/zoneinfo" "${root}/usr/share/"
  ln "${store}/ca-certificates.crt" "${root}/etc/ssl/certs/ca-certificates.crt"
  group=()
  for path in "${!packages[@]}"; do group+=("${store}/status.d/${path}"); done
  ln -t "${root}/var/lib/dpkg/status.d" "${group[@]}"

  # The non-root user the images run as, and name service defaults (glibc
  # 2.36 has files and dns built in, so no NSS modules are needed).
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    "nonroot:x:${USER_ID}:${USER_ID}:nonroot:/home/nonroot:/sbin/nologin" \
    >"${root}/etc/passwd"
  printf '%s\n' 'root:x:0:' "nonroot:x:${USER_ID}:" >"${root}/etc/group"
  printf 'hosts: files dns\n' >"${root}/etc/nsswitch.conf"
  printf '%s\n' "${MULTIARCH}" >"${root}/etc/ld.so.conf"
  chown "${USER_ID}:${USER_ID}" "${root}/home/nonroot" 2>/dev/null || true
  ldconfig -r "${root}"
}

cmd_rootfs() {
  [[ $# -ge 2 ]] || usage
  local build="$1" out="$2" image binary path gconv
  shift 2
  local -a wanted=("${IMAGES[@]}")
  [[ $# -eq 0 ]] || wanted=("$@")
  for image in "${wanted[@]}"; do
    [[ -n "${IMAGE_BINARIES[${image}]:-}" ]] || die "no image '${image}' (images: ${IMAGES[*]})"
  done
  local store="${out}/.store"
  local -A files_of=()
  local -a all=() gconv_files=() image_files=() packages=()
  [[ -d "${build}" ]] || die "no build directory ${build}"
  command -v ldd >/dev/null || die "ldd not found"
  rm -rf "${store}"
  mkdir -p "${store}/bin" "${store}/status.d" "${store}/usr/share"

  # The binaries, stripped, and the libraries each loads.
  for binary in "${!BUILT[@]}"; do
    path="${build}/${BUILT[${binary}]}"
    [[ -x "${path}" ]] || die "${path} is not built (target ${TARGET[${binary}]})"
    strip --strip-unneeded -o "${store}/bin/${binary}" "${path}"
    chmod 0755 "${store}/bin/${binary}"
    files_of["${binary}"]="$(library_closure "${path}")"
  done
  MULTIARCH="$(ldd "${build}/${BUILT[kosapo]}" | awk '$1 == "libc.so.6" { print $3 }')"
  MULTIARCH="$(realpath -m "${MULTIARCH%/*}")"
  # iconv opens its converters at run time (common/csv reads CP932, in the
  # services and in the CLI's imports), which ldd cannot see: every image
  # gets the module, what it loads, and the gconv configuration.
  gconv="${MULTIARCH}/gconv"
  [[ -f "${gconv}/CP932.so" ]] || die "${gconv}/CP932.so not found"
  gconv_files=("${gconv}/CP932.so" "${gconv}/gconv-modules")
  [[ ! -f "${gconv}/gconv-modules.cache" ]] || gconv_files+=("${gconv}/gconv-modules.cache")
  for path in "${gconv}"/gconv-modules.d/*.conf; do
    [[ -f "${path}" ]] && gconv_files+=("${path}")
  done
  mapfile -t -O "${#gconv_files[@]}" gconv_files < <(library_closure "${gconv}/CP932.so")

  mapfile -t all < <(printf '%s\n' "${files_of[@]}" "${gconv_files[@]}" | sort -u)
  place_files "${all[@]}"
  find_owners "${all[@]}" /usr/share/zoneinfo/Asia/Tokyo
  for path in "${all[@]}"; do
    mkdir -p "${store}${PLACE[${path}]%/*}"
    cp -L --preserve=mode "${path}" "${store}${PLACE[${path}]}"
  done
  tar -C /usr/share --exclude='zoneinfo/right' -cf - zoneinfo | tar -C "${store}/usr/share" -xf -
  cp -L /etc/ssl/certs/ca-certificates.crt "${store}/ca-certificates.crt"
  # Which Debian packages the files are from, where scanners look for them
  # in a distroless image (one status file per package). The CA bundle is
  # generated by ca-certificates' trigger, owned by no package.
  mapfile -t packages < <(printf '%s\n' "${OWNER[@]}" ca-certificates | sort -u)
  dpkg-query -s "${packages[@]}" | awk -v dir="${store}/status.d" '
    /^Package: / { name = $2; sub(/:.*/, "", name); out = dir "/" name }
    /^$/ { if (out != "") close(out); out = ""; next }
    out != "" { print > out }'

  for image in "${wanted[@]}"; do
    image_files=()
    for binary in ${IMAGE_BINARIES[${image}]}; do
      mapfile -t -O "${#image_files[@]}" image_files <<<"${files_of[${binary}]}"
    done
    image_files+=("${gconv_files[@]}")
    mapfile -t image_files < <(printf '%s\n' "${image_files[@]}" | sort -u)
    write_rootfs "${out}/${image}" "${store}" "${IMAGE_BINARIES[${image}]}" "${image_files[@]}"
    log "${image}: $(du -sh "${out}/${image}" | cut -f1) in ${out}/${image}"
  done
  rm -rf "${store}"
}

main() {
  [[ $# -ge 1 ]] || usage
  local command="$1"
  shift
  case "${command}" in
    build-deps) cmd_build_deps "$@" ;;
    build) cmd_build "$@" ;;
    rootfs) cmd_rootfs "$@" ;;
    images) printf '%s\n' "${IMAGES[@]}" ;;
    targets)
      local binary
      for binary in "${!TARGET[@]}"; do printf '%s\n' "${TARGET[${binary}]}"; done | sort
      ;;
    binaries)
      [[ $# -eq 1 && -n "${IMAGE_BINARIES[$1]:-}" ]] || usage
      printf '%s\n' ${IMAGE_BINARIES[$1]}
      ;;
    build-packages) printf '%s\n' "${BUILD_PACKAGES[@]}" ;;
    *) usage ;;
  esac
}

main "$@"
