#!/usr/bin/env bash
# Installs what building and testing mskiam needs on Debian 12, from Debian's packages only.
# Does nothing when everything is already there, so it is cheap to call before every build.
set -euo pipefail

packages=(
  build-essential g++ clang cmake ninja-build pkg-config git ca-certificates
  libssl-dev libcurl4-openssl-dev librdkafka-dev catch2 libbenchmark-dev
  liblz4-dev libzstd-dev libsasl2-dev  # link Debian's librdkafka.a: the plugin under a static librdkafka
  libclang-rt-14-dev                  # sanitizers and libFuzzer for clang 14
  python3 python3-botocore python3-venv  # botocore checks signatures; venvs hold what PyPI serves
  python3-confluent-kafka kcat        # clients we did not write, for end-to-end tests
  python3-prometheus-client python3-yaml prometheus  # parse our metrics; promtool tests alerts.md
  procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
