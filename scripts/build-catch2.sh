#!/usr/bin/env bash
# Builds Catch2 v3 from Debian 13 (trixie)'s source package into a private prefix, so that the unit tests
# also run against the Catch2 that vcpkg, Conan and newer distributions ship (Debian 12 has 2.13).
# Like build-librdkafka.sh it runs on Debian 12 without touching the machine's APT sources.
#
#   prefix=$(scripts/build-catch2.sh | tail -1)
#   cmake -S . -B build/catch2-v3 -DCMAKE_PREFIX_PATH="$prefix" ...
#
# Progress goes to stderr; stdout carries only the prefix, as its last line. A second run finds the stamp
# file and prints the prefix at once, offline. Catch2 v3 is a static library (libCatch2.a and
# libCatch2Main.a) with its CMake package (Catch2::Catch2WithMain, Catch.cmake) under lib/cmake/Catch2.
#
# Environment:
#   MSKIAM_CATCH2_VERSION  upstream version to build             (default 3.7.1, the one trixie ships)
#   MSKIAM_CATCH2_PREFIX   where to install; must be empty, absent or made by this script
#                          (default ${XDG_CACHE_HOME:-$HOME/.cache}/mskiam/catch2-<version>)
#   MSKIAM_DEBIAN_SUITE    suite whose source package is used    (default trixie)
#   MSKIAM_DEBIAN_MIRROR   Debian mirror                         (default: this machine's, else deb.debian.org)
#   MSKIAM_CATCH2_FORCE=1  rebuild even when the prefix is complete
set -euo pipefail

readonly version=${MSKIAM_CATCH2_VERSION:-3.7.1}
readonly suite=${MSKIAM_DEBIAN_SUITE:-trixie}
readonly prefix=${MSKIAM_CATCH2_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mskiam/catch2-$version}
readonly stamp_name=.mskiam-catch2.stamp
# C++17 as the tests: Catch2's headers switch features (string_view, optional) on the standard, and the
# library must be built with the same choices as the programs that link it. No tests, docs or examples.
readonly cmake_flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 -DCMAKE_CXX_EXTENSIONS=OFF
                      -DBUILD_TESTING=OFF -DCATCH_INSTALL_DOCS=OFF -DCATCH_INSTALL_EXTRAS=ON)
readonly build_deps=(build-essential dpkg-dev patch cmake ninja-build debian-archive-keyring)
# Changes when anything that shapes the installed files changes, so an old cache is rebuilt, not reused.
readonly build_id="Catch2 $version from Debian $suite; cmake ${cmake_flags[*]}; v1"

log() { printf 'build-catch2: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/debian-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"

[[ $prefix == /* ]] || die "MSKIAM_CATCH2_PREFIX must be an absolute path (got '$prefix')"
stamp=$prefix/$stamp_name

is_built() {
  [[ -f $stamp && $(head -n1 "$stamp") == "$build_id" && -f $prefix/lib/libCatch2.a &&
     -f $prefix/lib/libCatch2Main.a && -f $prefix/lib/cmake/Catch2/Catch2Config.cmake ]]
}

if [[ ${MSKIAM_CATCH2_FORCE:-0} != 1 ]] && is_built; then
  log "Catch2 $version already built ($(sed -n 2p "$stamp"))"
  printf '%s\n' "$prefix"
  exit 0
fi

# One build per prefix at a time; a second caller waits and then finds the stamp.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
if [[ ${MSKIAM_CATCH2_FORCE:-0} != 1 ]] && is_built; then
  log "Catch2 $version was built by a concurrent run"
  printf '%s\n' "$prefix"
  exit 0
fi
# Never delete a directory this script did not make (MSKIAM_CATCH2_PREFIX=/usr/local, $HOME...).
if [[ -d $prefix && ! -f $stamp && -n $(ls -A "$prefix") ]]; then
  die "$prefix exists, is not empty and was not made by this script; remove it or choose another prefix"
fi

apt_install "${build_deps[@]}"
work=$(mktemp -d "${TMPDIR:-/tmp}/mskiam-catch2.XXXXXX")
trap 'rm -rf "$work"' EXIT
fetch_debian_source catch2 "$version" "$suite" "$work" "set MSKIAM_CATCH2_VERSION to one of those (3.x)"
apply_debian_patches "$debsrc_dir"
log "Debian patches applied: ${debsrc_applied[*]:-none}"

# --- build ----------------------------------------------------------------------------------------------
buildlog=$work/build.log
fail() { tail -n 60 "$buildlog" >&2; die "$1 failed (log above)"; }
log "configuring: ${cmake_flags[*]}"
cmake -S "$debsrc_dir" -B "$work/build" -G Ninja -DCMAKE_INSTALL_PREFIX="$prefix" "${cmake_flags[@]}" \
  >"$buildlog" 2>&1 || fail configure
jobs=$(nproc 2>/dev/null || echo 2)
log "building with -j$jobs"
start=$SECONDS
cmake --build "$work/build" -j "$jobs" >>"$buildlog" 2>&1 || fail build
build_seconds=$((SECONDS - start))
DESTDIR="$work/stage" cmake --install "$work/build" >>"$buildlog" 2>&1 || fail install

# --- swap the new tree in, check it, then stamp it ------------------------------------------------------
# Until the check passes the stamp says "incomplete": is_built() fails, but the prefix stays ours to replace.
rm -rf "$prefix".new.*   # left by interrupted runs; the lock keeps other runs out
next=$prefix.new.$$
cp -a "$work/stage$prefix" "$next"
echo "incomplete build" >"$next/$stamp_name"
rm -rf "$prefix"
mv "$next" "$prefix"

# A program of two test cases, one failing: the installed headers and libraries must list both, pass the
# one and fail the other. The version is Catch2's own, not the directory's name.
cat >"$work/check.cpp" <<'EOF'
#include <catch2/catch_test_macros.hpp>
#include <catch2/catch_version.hpp>
#include <iostream>
TEST_CASE("passes") {
  std::cout << Catch::libraryVersion() << "\n";
  CHECK(1 + 1 == 2);
}
TEST_CASE("fails") { CHECK(1 + 1 == 3); }
EOF
c++ -std=c++17 -I"$prefix/include" -o "$work/check" "$work/check.cpp" \
  "$prefix/lib/libCatch2Main.a" "$prefix/lib/libCatch2.a" || die "the check program does not build"
listed=$("$work/check" --list-tests --verbosity quiet | sort | paste -sd' ')
[[ $listed == "fails passes" ]] || die "the check program lists '$listed', expected 'fails passes'"
output=$("$work/check" passes) || die "test case 'passes' failed"
got=$(grep -m1 -xE '[0-9]+\.[0-9]+\.[0-9]+' <<<"$output" || true)
[[ $got == "$version" ]] || die "the installed Catch2 reports version '$got', expected $version"
if "$work/check" fails >/dev/null; then die "test case 'fails' passed"; fi

printf '%s\n%s\n' "$build_id" "Debian $debsrc_version, built $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${build_seconds}s" \
  >"$prefix/$stamp_name.new"
printf 'source sha256 %s\nverified by %s\nmirror %s\nDebian patches %s\n' \
  "$debsrc_sha256" "$debsrc_verified" "$debsrc_mirror" "${debsrc_applied[*]:-none}" >>"$prefix/$stamp_name.new"
mv "$prefix/$stamp_name.new" "$stamp"

log "Catch2 $got (Debian $debsrc_version) built in ${build_seconds}s, $(du -sh "$prefix" | cut -f1) in $prefix"
printf '%s\n' "$prefix"
