# shellcheck shell=bash
# Sourced by the scripts that build a newer Debian suite's source package on Debian 12
# (build-librdkafka.sh, build-catch2.sh): installs build dependencies, and fetches and verifies a source
# package through a private APT state, so that the machine's APT sources are never modified.
# The caller defines log and die, and runs under `set -euo pipefail`.

readonly debsrc_archive_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
readonly debsrc_uploader_keyring=/usr/share/keyrings/debian-keyring.gpg

# apt_install <package>...: installs the Debian 12 packages that are missing.
apt_install() {
  local missing=() p sudo=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} first"
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends)
  if ! "${install[@]}" "${missing[@]}" >&2; then
    log "install failed; refreshing the package lists and retrying"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${install[@]}" "${missing[@]}" >&2
  fi
}

# The machine's mirror is reused (first .../debian URI in its APT sources, so a local mirror or proxy keeps
# working); MSKIAM_DEBIAN_MIRROR overrides it.
debian_mirror() {
  local found
  shopt -s nullglob
  found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v '^[[:space:]]*#' | grep -oE '(https?|file)://[^][[:space:]]+/debian/?([[:space:]]|$)' |
    head -n1 | tr -d '[:space:]' || true)
  found=${MSKIAM_DEBIAN_MIRROR:-${found:-http://deb.debian.org/debian}}
  printf '%s\n' "${found%/}"
}

# fetch_debian_source <source package> <upstream version> <suite> <work dir> [<hint when it is missing>]
# Downloads the newest Debian revision of that upstream version into <work dir>/src and extracts it
# without its Debian patches (apply_debian_patches applies them). Sets, for the caller:
#   debsrc_version  Debian version ([epoch:]upstream-revision)   debsrc_dir     extracted tree
#   debsrc_dsc      the .dsc                                      debsrc_mirror  mirror used
#   debsrc_sha256   SHA-256 of the upstream tarball               debsrc_verified  how it was authenticated
# <work dir> must be a fresh directory the caller removes afterwards.
# shellcheck disable=SC2034  # the debsrc_* variables are this function's results
fetch_debian_source() {
  local package=$1 want=$2 in_suite=$3 dir=$4 hint=${5:-}
  [[ -f $debsrc_archive_keyring ]] || die "$debsrc_archive_keyring missing (package debian-archive-keyring)"
  debsrc_mirror=$(debian_mirror)
  chmod 755 "$dir"   # APT drops privileges to _apt for downloads; it must be able to reach its directories
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/src"
  printf 'deb-src [signed-by=%s] %s %s main\n' "$debsrc_archive_keyring" "$debsrc_mirror" "$in_suite" \
    >"$dir/apt/sources.list"
  if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$dir/src"; fi
  local apt_private=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=-
                     -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -q)

  log "fetching the $in_suite source index from $debsrc_mirror (private APT state in $dir/apt)"
  # InRelease must verify against the Debian archive keyring: APT refuses the index otherwise.
  apt-get "${apt_private[@]}" update >&2
  debsrc_version=$(apt-cache "${apt_private[@]}" showsrc "$package" |
    awk -v want="$want" '/^Version: / { u = $2; sub(/^[0-9]+:/, "", u); sub(/-[^-]*$/, "", u)
                                            if (u == want) print $2 }' | sort -V | tail -n1)
  if [[ -z $debsrc_version ]]; then
    local available
    available=$(apt-cache "${apt_private[@]}" showsrc "$package" | sed -n 's/^Version: //p' | paste -sd' ')
    die "Debian $in_suite has no $package $want source package (it has: ${available:-none})${hint:+; $hint}"
  fi

  log "downloading $package $debsrc_version source"
  # APT checks every file against the SHA-256 in the Sources index, which the signed InRelease covers.
  (cd "$dir/src" && apt-get "${apt_private[@]}" source --download-only "$package=$debsrc_version" >&2)
  debsrc_dsc=$(ls "$dir/src/${package}_"*.dsc)
  debsrc_dir=$dir/src/$package-$want
  if [[ -f $debsrc_uploader_keyring ]]; then
    log "verifying the uploader's signature on $(basename "$debsrc_dsc") with $debsrc_uploader_keyring"
    dpkg-source --require-valid-signature --skip-patches -x "$debsrc_dsc" "$debsrc_dir" >&2
    debsrc_verified="archive chain + uploader signature"
  else
    # dpkg-source warns that it cannot check the .dsc signature: the keyring of Debian uploaders is not
    # installed. The archive chain above already authenticates the .dsc and the tarballs.
    dpkg-source --skip-patches -x "$debsrc_dsc" "$debsrc_dir" >&2
    debsrc_verified="archive chain (InRelease -> Sources -> .dsc SHA-256)"
  fi
  debsrc_sha256=$(sed -n '/^Checksums-Sha256:/,/^[^ ]/p' "$debsrc_dsc" | awk '/orig\.tar/ {print $1}')
}

# apply_debian_patches <source tree> [<patch to leave out>...]
# Applies debian/patches/series in order, minus the ones named (dpkg-source applies all or none).
# Sets debsrc_applied to the names applied.
# shellcheck disable=SC2034  # debsrc_applied is the result
apply_debian_patches() {
  local dir=$1 name _
  shift
  debsrc_applied=()
  [[ -f $dir/debian/patches/series ]] || return 0
  while read -r name _; do
    [[ -z $name || $name == \#* ]] && continue
    if [[ " $* " == *" $name "* ]]; then
      log "not applying Debian patch $name"
      continue
    fi
    patch -d "$dir" -p1 --forward --quiet <"$dir/debian/patches/$name" >&2 ||
      die "Debian patch $name does not apply"
    debsrc_applied+=("$name")
  done <"$dir/debian/patches/series"
}
