#!/usr/bin/env bash
# Packages this checkout with Conan 2 and builds and runs test_package/ against the package, as a Conan
# user's `conan create .` does, once without and once with the rdkafka component. No ConanCenter:
# tests/packaging/conan/system-libraries.profile gives OpenSSL, libcurl and librdkafka to the system
# (Debian 12's packages) as platform requirements, and the Conan home has no remote at all, so nothing
# is downloaded but Conan itself.
#
#   scripts/conan-create.sh
#
# Conan comes from PyPI into a virtual environment of Debian's Python, cached with pip's downloads under
# ${XDG_CACHE_HOME:-$HOME/.cache}/mskiam. The Conan home is made afresh under the build directory on
# every run: no earlier package, profile or remote takes part.
#
# Environment:
#   MSKIAM_CONAN_VERSION  Conan release from PyPI      (default 2.34.0)
#   MSKIAM_CONAN_BUILD    build directory              (default build/conan in this checkout)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
readonly conan_version=${MSKIAM_CONAN_VERSION:-2.34.0}
readonly cache=${XDG_CACHE_HOME:-$HOME/.cache}/mskiam
readonly venv=$cache/conan-$conan_version
readonly build=${MSKIAM_CONAN_BUILD:-$root/build/conan}
readonly profile=$root/tests/packaging/conan/system-libraries.profile

log() { printf 'conan-create: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/debian-source.sh
source "$root/scripts/lib/debian-source.sh"   # for apt_install

# Conan's CMake builds test_package; the -dev packages are the platform requirements.
apt_install python3 python3-venv build-essential cmake ninja-build pkg-config \
            libssl-dev libcurl4-openssl-dev librdkafka-dev

# --- Conan in a virtual environment, once per version -----------------------------------------------
conan=$venv/bin/conan
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9   # two runs at a time share one venv; the second finds it complete
if [[ $("$conan" --version 2>/dev/null || true) != "Conan version $conan_version" ]]; then
  log "installing Conan $conan_version from PyPI into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  PIP_CACHE_DIR=$cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$venv/bin/pip" install --quiet "conan==$conan_version" >&2
  [[ $("$conan" --version) == "Conan version $conan_version" ]] || die "$conan does not run"
fi
exec 9>&-

# --- a Conan home of its own, without remotes ---------------------------------------------------------
rm -rf "$build"
mkdir -p "$build"
export CONAN_HOME=$build/home
"$conan" profile detect >"$build/profile-detect.log" 2>&1 || { cat "$build/profile-detect.log" >&2; die "conan profile detect failed"; }
"$conan" remote remove "*" >/dev/null
[[ -z $("$conan" remote list --format json | tr -d '[:space:][]') ]] || die "the Conan home still has remotes"

# The installed versions, which the recipe's version ranges must accept.
for module in openssl libcurl rdkafka; do
  pkg-config --exists "$module" || die "pkg-config knows no $module"
done
MSKIAM_SYSTEM_OPENSSL_VERSION=$(pkg-config --modversion openssl)
MSKIAM_SYSTEM_LIBCURL_VERSION=$(pkg-config --modversion libcurl)
MSKIAM_SYSTEM_RDKAFKA_VERSION=$(pkg-config --modversion rdkafka)
export MSKIAM_SYSTEM_OPENSSL_VERSION MSKIAM_SYSTEM_LIBCURL_VERSION MSKIAM_SYSTEM_RDKAFKA_VERSION
log "platform requirements: openssl/$MSKIAM_SYSTEM_OPENSSL_VERSION libcurl/$MSKIAM_SYSTEM_LIBCURL_VERSION" \
    "librdkafka/$MSKIAM_SYSTEM_RDKAFKA_VERSION"

# The version the recipe reads from version.hpp, as test_package prints it.
version=$(for part in MAJOR MINOR PATCH; do
            sed -n "s/^#define MSKIAM_VERSION_$part \([0-9]*\)$/\1/p" "$root/include/mskiam/version.hpp"
          done | paste -sd.)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "no version in include/mskiam/version.hpp (got '$version')"

# --- conan create, without and with the rdkafka component ---------------------------------------------
for rdkafka in False True; do
  out=$build/create-rdkafka-$rdkafka.log
  log "conan create . -o mskiam/*:with_rdkafka=$rdkafka"
  start=$SECONDS
  # test_package builds under the build directory (test_folder) and writes no CMakeUserPresets.json
  # into the checkout.
  if ! "$conan" create "$root" -pr:a default -pr:a "$profile" -o "&:with_rdkafka=$rdkafka" \
         -c "tools.cmake.cmake_layout:test_folder=$build/test_package-rdkafka-$rdkafka" \
         -c tools.cmake.cmaketoolchain:user_presets= -c tools.cmake.cmaketoolchain:generator=Ninja \
         >"$out" 2>&1; then
    tail -n 60 "$out" >&2
    die "conan create failed (with_rdkafka=$rdkafka; log $out)"
  fi
  # Conan's own words that the requirements came from the platform, and test_package's that it ran.
  for requirement in "openssl/$MSKIAM_SYSTEM_OPENSSL_VERSION" "libcurl/$MSKIAM_SYSTEM_LIBCURL_VERSION"; do
    grep -qE "^ +$requirement - Platform$" "$out" || die "$requirement is not a platform requirement (log $out)"
  done
  grep -q "^mskiam $version (header-only) token " "$out" || die "test_package did not sign a token (log $out)"
  if [[ $rdkafka == True ]]; then
    grep -qE "^ +librdkafka/$MSKIAM_SYSTEM_RDKAFKA_VERSION - Platform$" "$out" ||
      die "librdkafka is not a platform requirement (log $out)"
    grep -q "^librdkafka $MSKIAM_SYSTEM_RDKAFKA_VERSION md_lifetime_ms " "$out" ||
      die "test_package did not hand a token to librdkafka $MSKIAM_SYSTEM_RDKAFKA_VERSION (log $out)"
  fi
  log "with_rdkafka=$rdkafka: package created, test_package built and run in $((SECONDS - start))s"
done
log "mskiam/$version created with Conan $conan_version; logs in $build"
