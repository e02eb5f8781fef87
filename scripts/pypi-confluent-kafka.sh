#!/usr/bin/env bash
# Installs confluent-kafka from PyPI, as Python users get it, into a virtual environment of Debian's
# Python, for the plugin's tests under a client that bundles its own librdkafka: the manylinux wheel
# carries confluent_kafka.libs/librdkafka-<hash>.so.1, which its extension module loads privately.
#
#   python=$(scripts/pypi-confluent-kafka.sh | tail -1)
#   cmake ... -DMSKIAM_PYPI_PYTHON="$python"
#
# Progress goes to stderr; stdout carries only the venv's python, as its last line. The venv and pip's
# downloads are cached under ${XDG_CACHE_HOME:-$HOME/.cache}/mskiam; a second run finds the venv and
# prints its python at once, offline.
#
# Environment:
#   MSKIAM_CONFLUENT_KAFKA_VERSION  release from PyPI (default 2.16.1, the newest on 2026-12-04, which
#                                   bundles librdkafka 2.16.0; `pip index versions confluent-kafka`
#                                   lists newer ones)
set -euo pipefail

readonly version=${MSKIAM_CONFLUENT_KAFKA_VERSION:-2.16.1}
readonly cache=${XDG_CACHE_HOME:-$HOME/.cache}/mskiam
readonly venv=$cache/confluent-kafka-$version

log() { printf 'pypi-confluent-kafka: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() {
  [[ $("$venv/bin/python" -c 'import importlib.metadata as m, confluent_kafka; print(m.version("confluent-kafka"))' 2>/dev/null ||
       true) == "$version" ]]
}

mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9   # two runs at a time share one venv; the second finds it complete
if ! installed; then
  log "installing confluent-kafka $version from PyPI into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  # --only-binary: the wheel with its bundled librdkafka, never a source build on the system's.
  PIP_CACHE_DIR=$cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$venv/bin/pip" install --quiet --only-binary=:all: "confluent-kafka==$version" >&2
  installed || die "$venv/bin/python cannot import confluent_kafka $version"
fi
exec 9>&-
bundled=$(find "$venv" -path '*/confluent_kafka.libs/librdkafka*.so*' -print -quit)
[[ -n $bundled ]] || die "the wheel bundles no librdkafka (confluent_kafka.libs/librdkafka*.so*)"
log "confluent-kafka $version, bundled librdkafka $("$venv/bin/python" -c \
  'import confluent_kafka; print(confluent_kafka.libversion()[0])'): $bundled"
printf '%s\n' "$venv/bin/python"
