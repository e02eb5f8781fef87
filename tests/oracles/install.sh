#!/usr/bin/env bash
# Installs the official MSK IAM signers at their pinned versions, each from its own registry, into
# ~/.cache/mskiam/oracles (override: MSKIAM_ORACLES_CACHE), and builds their batch drivers:
#   js      aws-msk-iam-sasl-signer-js        npm ci from js/package-lock.json
#   python  aws-msk-iam-sasl-signer-python    pip --require-hashes from python/requirements.txt, in a venv
#   go      aws-msk-iam-sasl-signer-go        go build of go/ (go.mod, go.sum), the machine's Go
#   java    software.amazon.msk:aws-msk-iam-auth  mvn compile of java/ (pom.xml), repo ~/.cache/mskiam/m2
# A signer whose pinned files have not changed since its last install is not installed again: a warm
# run downloads nothing. Missing runtimes come from Debian's packages. A signer that cannot be
# installed is reported and left out; the script fails only when none is ready.
# Writes $cache/drivers.json: for each ready signer, the command that runs its driver and its env.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${MSKIAM_ORACLES_CACHE:-$HOME/.cache/mskiam/oracles}
m2=${MSKIAM_M2:-$HOME/.cache/mskiam/m2}
mkdir -p "$cache"

apt_install() {  # packages...: installs those not installed yet
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "oracles: installing ${missing[*]} from Debian" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The hash of a signer's pinned files (and driver source): its install is current when it matches.
stamp_of() { (cd "$here" && cat "$@" | sha256sum | cut -d' ' -f1); }
current() { [ -f "$cache/$1.stamp" ] && [ "$(cat "$cache/$1.stamp")" = "$2" ]; }

declare -A ready note
log_of() { echo "$cache/$1-install.log"; }

install_js() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  local stamp dir=$cache/js
  stamp=$(stamp_of js/package.json js/package-lock.json)
  if ! current js "$stamp"; then
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$here/js/package.json" "$here/js/package-lock.json" "$dir/"
    timeout 600 npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error --fetch-retries=2 \
      --cache "$HOME/.cache/mskiam/npm-cache" >"$(log_of js)" 2>&1 || return 1
    echo "$stamp" >"$cache/js.stamp"
  fi
  NODE_PATH="$dir/node_modules" node -e 'require("aws-msk-iam-sasl-signer-js")'
}

install_python() {
  if ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then apt_install python3 python3-venv; fi
  local stamp venv=$cache/venv
  stamp=$(stamp_of python/requirements.txt)
  if ! current python "$stamp"; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv" >"$(log_of python)" 2>&1 || return 1
    timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes \
      --cache-dir "$HOME/.cache/mskiam/pip-cache" -r "$here/python/requirements.txt" \
      >>"$(log_of python)" 2>&1 || return 1
    echo "$stamp" >"$cache/python.stamp"
  fi
  "$venv/bin/python" -c 'import aws_msk_iam_sasl_signer'
}

go_env() {
  export GOPATH=$HOME/.cache/mskiam/go GOMODCACHE=$HOME/.cache/mskiam/go/mod
  export GOCACHE=$HOME/.cache/mskiam/go/build GOFLAGS=-modcacherw GOTOOLCHAIN=local
}

# A Go newer than Debian 12's 1.19, as the Go project ships it: the module golang.org/toolchain from
# the Go module proxy, fetched by the old go command like any module, then made runnable (module
# files are stored read-only and without their execute bits).
readonly go_toolchain=go1.26.8
go_from_proxy() {
  local dir=$HOME/.cache/mskiam/go-toolchain/$go_toolchain module
  if [ ! -x "$dir/bin/go" ]; then
    module=$(GOFLAGS=-modcacherw go mod download -json \
      "golang.org/toolchain@v0.0.1-$go_toolchain.linux-$(go env GOARCH)" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return 1
    [ -d "$module" ] || return 1
    rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")" && cp -r "$module" "$dir.tmp"
    chmod -R u+w "$dir.tmp" && chmod +x "$dir.tmp"/bin/* "$dir.tmp"/pkg/tool/*/*
    mv "$dir.tmp" "$dir"
  fi
  export PATH=$dir/bin:$PATH GOROOT=$dir
}

install_go() {
  if ! command -v go >/dev/null; then apt_install golang-go; fi
  go_env
  # go.mod asks for Go 1.21 (the signer's own minimum); Debian 12's golang-go is 1.19.
  local minor
  minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  if [ "${minor:-0}" -lt 21 ]; then
    go_from_proxy >>"$(log_of go)" 2>&1 ||
      { note[go]="$(go env GOVERSION) is older than the go1.21 the signer needs, and $go_toolchain could not be had from the Go module proxy"; return 1; }
  fi
  local stamp
  stamp=$(stamp_of go/go.mod go/go.sum go/main.go; go env GOVERSION)
  if ! current go "$stamp" || [ ! -x "$cache/oracle-go" ]; then
    (cd "$here/go" && timeout 900 go build -o "$cache/oracle-go" .) >"$(log_of go)" 2>&1 || return 1
    echo "$stamp" >"$cache/go.stamp"
  fi
}

install_java() {
  if ! command -v javac >/dev/null || ! command -v mvn >/dev/null; then
    apt_install openjdk-17-jdk-headless maven
  fi
  local stamp
  stamp=$(stamp_of java/pom.xml java/src/main/java/oracle/OracleJava.java)
  if ! current java "$stamp" || [ ! -f "$cache/java.classpath" ]; then
    rm -rf "$cache/java-build"
    timeout 900 mvn -q -B -f "$here/java/pom.xml" -Dmaven.repo.local="$m2" \
      -Doracle.build="$cache/java-build" compile dependency:build-classpath \
      -Dmdep.outputFile="$cache/java.classpath" >"$(log_of java)" 2>&1 || return 1
    echo "$stamp" >"$cache/java.stamp"
  fi
}

for signer in js python go java; do
  start=$(date +%s%N)
  if "install_$signer"; then
    ready[$signer]=1
    printf 'oracles: %-6s ready (%d ms)\n' "$signer" $((($(date +%s%N) - start) / 1000000))
  else
    printf 'oracles: %-6s skipped: %s\n' "$signer" "${note[$signer]:-install failed, see $(log_of "$signer")}"
  fi
done

# The drivers' command lines, for differential.py and scripts/bench.sh.
/usr/bin/python3 - "$cache/drivers.json" "$here" "$cache" "${!ready[@]}" <<'PY'
import json
import sys

out, here, cache, *ready = sys.argv[1:]
every = {
    "js": {"argv": ["node", here + "/js/oracle.js"], "env": {"NODE_PATH": cache + "/js/node_modules"}},
    "python": {"argv": [cache + "/venv/bin/python", here + "/python/oracle.py"], "env": {}},
    "go": {"argv": [cache + "/oracle-go"], "env": {}},
    "java": {"argv": ["java", "-XX:+UseSerialGC", "-cp",
                      cache + "/java-build/classes:" + open(cache + "/java.classpath").read().strip()
                      if "java" in ready else "", "oracle.OracleJava"], "env": {}},
}
json.dump({name: every[name] for name in sorted(ready)}, open(out, "w"), indent=1)
PY
[ ${#ready[@]} -gt 0 ]
