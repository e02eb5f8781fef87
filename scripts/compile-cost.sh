#!/usr/bin/env bash
# What including mskiam costs a translation unit: times `g++ -O2 -std=c++17 -c` of small TUs that
# use sign_token and a TokenProvider (through the umbrella mskiam/mskiam.hpp, and through the single
# headers provider.hpp + sources/static.hpp), against the same TU without mskiam, and (when
# mskiam/rdkafka.hpp exists) a TU that plugs a provider into librdkafka against the same TU
# without mskiam. Runs are interleaved (so that a load spike hits every TU alike) and the median is
# reported, both as compiler CPU time (user + sys, what the target is judged on: it does not
# depend on other load on the machine) and as wall time.
# Target: at most 0.5 s added per TU. Timings never fail the script; a compile error does.
#
#   scripts/compile-cost.sh                      7 runs of each TU with g++
#   MSKIAM_COMPILE_RUNS=11 CXX=clang++ scripts/compile-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/compile-cost
runs=${MSKIAM_COMPILE_RUNS:-7}
cxx=${CXX:-g++}
mkdir -p "$work"

cat >"$work/baseline.cpp" <<'EOF'
// The TU without mskiam: the standard headers a token user includes anyway, the same shape of work.
#include <chrono>
#include <string>
std::size_t use(const std::string& key, const std::string& region) {
  const auto now = std::chrono::system_clock::now();
  std::string s = key + "/" + region + std::to_string(now.time_since_epoch().count());
  return s.size();
}
EOF

cat >"$work/mskiam.cpp" <<'EOF'
// The umbrella header, sign_token and a TokenProvider.
#include <mskiam/mskiam.hpp>
#include <chrono>
#include <string>
std::size_t use(const std::string& key, const std::string& region) {
  mskiam::Credentials credentials;
  credentials.access_key_id = key;
  credentials.secret_access_key = std::string("secret");
  mskiam::TokenOptions options;
  options.region = region;
  mskiam::AuthToken token = mskiam::sign_token(credentials, options, std::chrono::system_clock::now());
  mskiam::TokenProvider<mskiam::StaticCredentials> provider{
      mskiam::StaticCredentials{credentials}, options};
  return token.value.size() + provider.token().value.size();
}
EOF

cat >"$work/provider.cpp" <<'EOF'
// The single headers a static-credentials user needs: same work as mskiam.cpp, no umbrella.
#include <mskiam/provider.hpp>
#include <mskiam/sources/static.hpp>
#include <mskiam/token.hpp>
#include <chrono>
#include <string>
std::size_t use(const std::string& key, const std::string& region) {
  mskiam::Credentials credentials;
  credentials.access_key_id = key;
  credentials.secret_access_key = std::string("secret");
  mskiam::TokenOptions options;
  options.region = region;
  mskiam::AuthToken token = mskiam::sign_token(credentials, options, std::chrono::system_clock::now());
  mskiam::TokenProvider<mskiam::StaticCredentials> provider{
      mskiam::StaticCredentials{credentials}, options};
  return token.value.size() + provider.token().value.size();
}
EOF

cat >"$work/token.cpp" <<'EOF'
// Only mskiam/token.hpp and sign_token: what a signer without a provider pays.
#include <mskiam/token.hpp>
#include <chrono>
#include <string>
std::size_t use(const std::string& key, const std::string& region) {
  mskiam::Credentials credentials;
  credentials.access_key_id = key;
  credentials.secret_access_key = std::string("secret");
  mskiam::TokenOptions options;
  options.region = region;
  return mskiam::sign_token(credentials, options, std::chrono::system_clock::now()).value.size();
}
EOF

have_rdkafka=0
if [ -f "$root/include/mskiam/rdkafka.hpp" ] && [ -f /usr/include/librdkafka/rdkafkacpp.h ]; then
  have_rdkafka=1
  cat >"$work/rdkafka_baseline.cpp" <<'EOF'
// A librdkafka application's TU without mskiam: both librdkafka headers, a configuration.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <memory>
#include <string>
std::size_t use(const std::string& brokers) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", brokers, error);
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_destroy(c);
  return error.size();
}
EOF
  cat >"$work/rdkafka.cpp" <<'EOF'
// The same TU plugging a TokenProvider into librdkafka through mskiam/rdkafka.hpp (C and C++ API).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <mskiam/mskiam.hpp>
#include <mskiam/rdkafka.hpp>
#include <memory>
#include <string>
std::size_t use(const std::string& brokers) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", brokers, error);
  mskiam::TokenOptions options;
  options.region = "us-east-1";
  mskiam::TokenProvider<mskiam::EnvironmentCredentials> provider{
      mskiam::EnvironmentCredentials{}, options};
  mskiam::rdkafka::RefreshCallback<decltype(provider)> callback{provider};
  mskiam::rdkafka::attach(*conf, callback);
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  mskiam::rdkafka::attach(c, provider);
  rd_kafka_conf_destroy(c);
  return error.size();
}
EOF
fi

echo "compiler: $($cxx --version | head -1); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command:  $cxx -O2 -std=c++17 -I include -c <tu>.cpp   ($runs runs each, interleaved, median)"
[ "$have_rdkafka" = 1 ] || echo "note: mskiam/rdkafka.hpp or librdkafka's headers are missing: the librdkafka TUs are skipped"

/usr/bin/python3 - "$cxx" "$root/include" "$work" "$runs" "$have_rdkafka" <<'PY'
import os
import statistics
import subprocess
import sys
import time

cxx, include, work, runs, have_rdkafka = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
tus = ["baseline", "token", "provider", "mskiam"] + (["rdkafka_baseline", "rdkafka"] if have_rdkafka else [])
samples = {tu: {"cpu": [], "wall": []} for tu in tus}


def compile_once(tu):
    command = [cxx, "-O2", "-std=c++17", "-I", include, "-c", os.path.join(work, tu + ".cpp"),
               "-o", os.path.join(work, tu + ".o")]
    before = os.times()
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if result.returncode != 0:
        sys.stderr.write("compile failed: %s\n%s" % (" ".join(command), result.stderr))
        sys.exit(1)
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, wall


for tu in tus:  # one untimed run each: warm the page cache
    compile_once(tu)
for _ in range(runs):
    for tu in tus:
        cpu, wall = compile_once(tu)
        samples[tu]["cpu"].append(cpu)
        samples[tu]["wall"].append(wall)

med = {tu: {k: statistics.median(v) for k, v in s.items()} for tu, s in samples.items()}
print()
print("%-62s %10s %10s %12s" % ("translation unit", "CPU s", "wall s", "added CPU s"))
print("%-62s %10s %10s %12s" % ("-" * 62, "-" * 10, "-" * 10, "-" * 12))
label = {
    "baseline": "without mskiam (<chrono>, <string>)",
    "token": "mskiam/token.hpp + sign_token",
    "provider": "provider.hpp + static.hpp + token.hpp, same use",
    "mskiam": "mskiam/mskiam.hpp + sign_token + TokenProvider",
    "rdkafka_baseline": "librdkafka app without mskiam (rdkafka.h + rdkafkacpp.h)",
    "rdkafka": "same + mskiam.hpp + rdkafka.hpp (provider, callback, attach)",
}
base_of = {"token": "baseline", "provider": "baseline", "mskiam": "baseline",
           "rdkafka": "rdkafka_baseline"}
added = {}
for tu in tus:
    extra = ""
    if tu in base_of:
        added[tu] = med[tu]["cpu"] - med[base_of[tu]]["cpu"]
        extra = "%+.2f" % added[tu]
    print("%-62s %10.2f %10.2f %12s" % (label[tu], med[tu]["cpu"], med[tu]["wall"], extra))
print()
for tu in ("provider", "mskiam", "rdkafka"):
    if tu in added:
        print("target: <= 0.5 s added per TU (%s): %+.2f s CPU -> %s" % (
            label[tu], added[tu], "met" if added[tu] <= 0.5 else "NOT met"))
PY
