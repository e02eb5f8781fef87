#!/usr/bin/env bash
# Builds librdkafka from Debian 13 (trixie)'s source package into a private prefix, for the tests that need
# KIP-368 re-authentication (librdkafka >= 2.2; Debian 12 ships 2.0.2). Runs on Debian 12 without touching
# the machine's APT sources: the deb-src index lives in a private APT state that is thrown away afterwards.
#
#   prefix=$(scripts/build-librdkafka.sh | tail -1)
#   PKG_CONFIG_PATH=$prefix/lib/pkgconfig cmake -S . -B build ...
#
# Progress goes to stderr; stdout carries only the prefix, as its last line. A second run finds the stamp
# file and prints the prefix at once, offline. The shared libraries carry RUNPATH $ORIGIN, so
# librdkafka++.so.1 loads this build's librdkafka.so.1 and never Debian's 2.0.2; executables still need
# -Wl,-rpath,$prefix/lib or LD_LIBRARY_PATH=$prefix/lib to find the prefix at all.
#
# Environment:
#   MSKIAM_RDKAFKA_VERSION  upstream version to build            (default 2.8.0, the one trixie ships)
#                           Tested: 2.8.0 (trixie), 2.14.2 (sid and forky, the newest Debian served in
#                           2026-12; experimental had none). sid keeps only its current version, so a
#                           pin there fails once sid moves on; asking for a version a suite lacks prints
#                           the ones it has, e.g. MSKIAM_RDKAFKA_VERSION=0 MSKIAM_DEBIAN_SUITE=sid.
#   MSKIAM_RDKAFKA_PREFIX   where to install; must be empty, absent or made by this script
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/mskiam/librdkafka-<version>)
#   MSKIAM_DEBIAN_SUITE     suite whose source package is used   (default trixie)
#   MSKIAM_DEBIAN_MIRROR    Debian mirror                        (default: this machine's, else deb.debian.org)
#   MSKIAM_RDKAFKA_VERIFY_UPLOADER=1  also require a valid uploader signature on the .dsc (installs
#                           debian-keyring, ~30 MB); without it the archive signature chain is checked
#   MSKIAM_RDKAFKA_FORCE=1  rebuild even when the prefix is complete
set -euo pipefail

readonly version=${MSKIAM_RDKAFKA_VERSION:-2.8.0}
readonly suite=${MSKIAM_DEBIAN_SUITE:-trixie}
readonly prefix=${MSKIAM_RDKAFKA_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mskiam/librdkafka-$version}
readonly stamp_name=.mskiam-librdkafka.stamp
# Minimum for the tests: OAUTHBEARER (needs SSL in librdkafka's configure), zlib; lz4 and snappy are built
# in. No GSSAPI/Cyrus, no libcurl (OIDC), no zstd.
readonly configure_flags=(--enable-ssl --enable-zlib --disable-zstd --disable-lz4-ext --disable-gssapi
                          --disable-curl)
readonly build_deps=(build-essential dpkg-dev patch python3 pkg-config libssl-dev zlib1g-dev debian-archive-keyring)
# Debian patches that only unbundle libraries for Debian's own packaging: debian/rules then regenerates
# the OpenTelemetry sources with opentelemetry-proto, which Debian 12 lacks, and this script runs
# upstream's configure, not debian/rules. Without them the upstream tree builds with its bundled cJSON,
# nanopb and generated sources. Every other Debian patch is applied. Changing this list changes the
# build: bump build_id's suffix.
readonly unbundling_patches=(Add-enable-cjson-ext-option-to-build-with-an-external-lib.patch
                             Add-enable-nanopb-ext-option-to-build-with-an-external-na.patch
                             Use-nanopb-generated-header-paths-for-opentelemetry.patch)
# Changes when anything that shapes the installed files changes, so an old cache is rebuilt, not reused.
readonly build_id="librdkafka $version from Debian $suite; configure ${configure_flags[*]}; rpath \$ORIGIN; shared only; v2"

log() { printf 'build-librdkafka: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/debian-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"

[[ $prefix == /* ]] || die "MSKIAM_RDKAFKA_PREFIX must be an absolute path (got '$prefix')"
stamp=$prefix/$stamp_name

is_built() {
  [[ -f $stamp && $(head -n1 "$stamp") == "$build_id" && -e $prefix/lib/librdkafka.so.1 &&
     -e $prefix/lib/librdkafka++.so.1 && -f $prefix/lib/pkgconfig/rdkafka.pc ]]
}

if [[ ${MSKIAM_RDKAFKA_FORCE:-0} != 1 ]] && is_built; then
  log "librdkafka $version already built ($(sed -n 2p "$stamp"))"
  printf '%s\n' "$prefix"
  exit 0
fi

# One build per prefix at a time; a second caller waits and then finds the stamp.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
if [[ ${MSKIAM_RDKAFKA_FORCE:-0} != 1 ]] && is_built; then
  log "librdkafka $version was built by a concurrent run"
  printf '%s\n' "$prefix"
  exit 0
fi
# Never delete a directory this script did not make (MSKIAM_RDKAFKA_PREFIX=/usr/local, $HOME...).
if [[ -d $prefix && ! -f $stamp && -n $(ls -A "$prefix") ]]; then
  die "$prefix exists, is not empty and was not made by this script; remove it or choose another prefix"
fi

# --- build dependencies (Debian 12 packages), then the source ------------------------------------------
deps=("${build_deps[@]}")
[[ ${MSKIAM_RDKAFKA_VERIFY_UPLOADER:-0} == 1 ]] && deps+=(debian-keyring)
apt_install "${deps[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/mskiam-librdkafka.XXXXXX")
trap 'rm -rf "$work"' EXIT
fetch_debian_source librdkafka "$version" "$suite" "$work" \
  "set MSKIAM_RDKAFKA_VERSION to one of those (>= 2.2 for re-authentication)"
srcdir=$debsrc_dir
apply_debian_patches "$srcdir" "${unbundling_patches[@]}"
applied=("${debsrc_applied[@]}")
log "Debian patches applied: ${applied[*]:-none}"

# --- build ----------------------------------------------------------------------------------------------
buildlog=$work/build.log
fail() { tail -n 60 "$buildlog" >&2; die "$1 failed (log above)"; }
cd "$srcdir"
log "configuring: ${configure_flags[*]}"
./configure --prefix="$prefix" "${configure_flags[@]}" >"$buildlog" 2>&1 || fail configure
grep -q 'SASL_OAUTHBEARER' Makefile.config || fail "configure (no SASL_OAUTHBEARER)"
jobs=$(nproc 2>/dev/null || echo 2)
log "building with make -j$jobs"
start=$SECONDS
# RUNPATH $ORIGIN: the C++ library finds the C library beside it. \$$ survives make and the shell.
# shellcheck disable=SC2016  # $ORIGIN is for the dynamic loader, not for this shell
make -j"$jobs" libs 'LDFLAGS=-Wl,-rpath,\$$ORIGIN' >>"$buildlog" 2>&1 || fail make
build_seconds=$((SECONDS - start))
make install-subdirs DESTDIR="$work/stage" >>"$buildlog" 2>&1 || fail "make install"
# Shared libraries only: the static archives are 54 of 68 MB and no test links statically.
rm -f "$work/stage$prefix"/lib/*.a "$work/stage$prefix"/lib/pkgconfig/*-static.pc

# --- swap the new tree in, check it, then stamp it ------------------------------------------------------
# Until the checks pass the stamp says "incomplete": is_built() fails, but the prefix stays ours to replace.
rm -rf "$prefix".new.*   # left by interrupted runs; the lock keeps other runs out
next=$prefix.new.$$
cp -a "$work/stage$prefix" "$next"
echo "incomplete build" >"$next/$stamp_name"
rm -rf "$prefix"
mv "$next" "$prefix"

cat >"$work/check.c" <<'EOF'
#include <librdkafka/rdkafka.h>
#include <stdio.h>
int main(void) {
  char features[512];
  size_t size = sizeof features;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_get(conf, "builtin.features", features, &size) != RD_KAFKA_CONF_OK) return 1;
  printf("%s %s\n", rd_kafka_version_str(), features);
  rd_kafka_conf_destroy(conf);
  return 0;
}
EOF
cat >"$work/check.cpp" <<'EOF'
#include <librdkafka/rdkafkacpp.h>
#include <iostream>
int main() { std::cout << RdKafka::version_str() << "\n"; }
EOF
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046  # pkg-config output is a list of flags
cc -o "$work/check" "$work/check.c" $(pkg-config --cflags --libs rdkafka) -Wl,-rpath,"$prefix/lib"
# Linked against librdkafka++ alone: it must find this build's librdkafka.so.1 through its own RUNPATH.
# shellcheck disable=SC2046
c++ -o "$work/check++" "$work/check.cpp" $(pkg-config --cflags --libs rdkafka++) -Wl,-rpath,"$prefix/lib"
read -r got features < <("$work/check") || true
read -r got_cpp < <("$work/check++") || true
[[ $got == "$version" && $got_cpp == "$version" ]] ||
  die "check programs report $got (C) and $got_cpp (C++), expected $version"
[[ ,$features, == *,sasl_oauthbearer,* && ,$features, == *,ssl,* ]] ||
  die "builtin.features lacks sasl_oauthbearer or ssl: $features"

printf '%s\n%s\n' "$build_id" "Debian $debsrc_version, built $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${build_seconds}s" \
  >"$prefix/$stamp_name.new"
printf 'source sha256 %s\nverified by %s\nmirror %s\nDebian patches %s\nbuiltin.features %s\n' \
  "$debsrc_sha256" "$debsrc_verified" "$debsrc_mirror" "${applied[*]:-none}" "$features" >>"$prefix/$stamp_name.new"
mv "$prefix/$stamp_name.new" "$stamp"

log "librdkafka $got (Debian $debsrc_version) built in ${build_seconds}s," \
    "$(du -sh "$prefix" | cut -f1) in $prefix; builtin.features=$features"
printf '%s\n' "$prefix"
