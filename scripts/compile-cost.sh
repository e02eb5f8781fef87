#!/usr/bin/env bash
# What including mskiam costs a translation unit, in both build modes (mskiam/config.hpp):
# header-only (the default) and compiled (MSKIAM_COMPILED_LIB, src/mskiam.cpp built once).
#
# Times `g++ -O2 -std=c++17 -c` of small TUs that sign a token and run a TokenProvider (through
# single headers, and through the umbrella mskiam/mskiam.hpp), and of a librdkafka TU that plugs a
# provider into a client, each against the same TU without mskiam; and, to tell mskiam's own cost
# from the standard library's, the TU without mskiam plus the standard headers that mskiam.hpp's
# declarations include (found with -H, not listed by hand). Runs are interleaved (a load
# spike hits every TU alike); the median compiler CPU time (user + sys) and wall time are
# reported, and the one-time cost of src/mskiam.cpp. Target: at most 0.5 s added per TU, judged on
# the best run of each TU: a compile does the same work every time and a shared machine only ever
# adds to it, so the best run is the steadiest estimate (the median's is printed beside it).
# Timings never fail the script; a compile error does.
#
#   scripts/compile-cost.sh                      5 runs of each TU with g++
#   MSKIAM_COMPILE_RUNS=11 CXX=clang++ scripts/compile-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/build/compile-cost
mkdir -p "$work"
have_rdkafka=0
[ -f /usr/include/librdkafka/rdkafkacpp.h ] && have_rdkafka=1

echo "compiler: $(${CXX:-g++} --version | head -1); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command:  ${CXX:-g++} -O2 -std=c++17 -I include [-DMSKIAM_COMPILED_LIB] -c <tu>.cpp"
[ "$have_rdkafka" = 1 ] || echo "note: librdkafka's headers are missing: the librdkafka TUs are skipped"

exec /usr/bin/python3 - "${CXX:-g++}" "$root" "$work" "${MSKIAM_COMPILE_RUNS:-5}" "$have_rdkafka" <<'PY'
import os
import statistics
import subprocess
import sys
import time

cxx, root, work, runs, have_rdkafka = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
include = os.path.join(root, "include")

# Signing and a provider: the work every TU below does, with the headers each one includes.
USE = """
std::size_t use(const std::string& key, const std::string& region) {
  mskiam::Credentials credentials;
  credentials.access_key_id = key;
  credentials.secret_access_key = std::string("secret");
  mskiam::TokenOptions options;
  options.region = region;
  mskiam::AuthToken token = mskiam::sign_token(credentials, options, std::chrono::system_clock::now());
  %s
}
"""
BASELINE = """
std::size_t use(const std::string& key, const std::string& region) {
  const auto now = std::chrono::system_clock::now();
  return (key + "/" + region + std::to_string(now.time_since_epoch().count())).size();
}
"""
PROVIDER = """mskiam::TokenProvider<mskiam::StaticCredentials> provider{
      mskiam::StaticCredentials{credentials}, options};
  return token.value.size() + provider.token().value.size();"""
KAFKA = """
std::size_t use(const std::string& brokers) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", brokers, error);
  %s
  return error.size();
}
"""
ATTACH = """mskiam::TokenOptions options;
  options.region = "us-east-1";
  mskiam::TokenProvider<mskiam::DefaultChain> provider{mskiam::DefaultChain{}, options};
  mskiam::rdkafka::RefreshCallback<decltype(provider)> callback{provider};
  mskiam::rdkafka::attach(*conf, callback);
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  mskiam::rdkafka::attach(c, provider);
  rd_kafka_conf_destroy(c);"""
# A credential source of the application's own: its TokenProvider is compiled in the TU, unless it
# goes through AnySource, whose TokenProvider the compiled mode has in the library.
OWN_SOURCE = """
struct OwnSource {
  mskiam::Credentials fetch() {
    mskiam::Credentials c;
    c.access_key_id = "AKID";
    c.secret_access_key = std::string("secret");
    return c;
  }
};
"""
OWN = """mskiam::TokenProvider<%s> provider{OwnSource{}, options};
  return token.value.size() + provider.token().value.size();"""
STD = "#include <chrono>\n#include <memory>\n#include <string>\n"
LIBRDKAFKA = "#include <librdkafka/rdkafka.h>\n#include <librdkafka/rdkafkacpp.h>\n"



def standard_headers_of(header, flags):
    """The standard headers that mskiam's own headers include directly, in a build mode."""
    probe = os.path.join(work, "probe.cpp")
    with open(probe, "w") as f:
        f.write("#include <%s>\n" % header)
    result = subprocess.run([cxx, "-std=c++17", "-I", include] + flags + ["-H", "-fsyntax-only", probe],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write("compile failed: %s\n%s" % (header, result.stderr))
        sys.exit(1)
    found, stack = [], []
    for line in result.stderr.splitlines():  # -H: one line per header, its depth in dots
        dots, _, path = line.partition(" ")
        if not dots or dots.strip(".") or not path:
            continue
        del stack[len(dots) - 1:]
        parent = stack[-1] if stack else include
        stack.append(path)
        if parent.startswith(include + os.sep) and "/c++/" in path and "/bits/" not in path:
            name = path.split("/c++/", 1)[1].split("/", 1)[1]
            if name not in found:
                found.append(name)
    return found


# What the compiled mode's umbrella costs beyond the standard headers it declares with, which
# most application files include anyway.
STD_OF_MSKIAM = standard_headers_of("mskiam/mskiam.hpp", ["-DMSKIAM_COMPILED_LIB"])

# name: (label, source, the TU it is compared with)
tus = {
    "baseline": ("without mskiam (<chrono>, <memory>, <string>)", STD + BASELINE, None),
    "standard": ("without mskiam, + the %d standard headers of mskiam.hpp" % len(STD_OF_MSKIAM),
                 STD + "".join("#include <%s>\n" % h for h in STD_OF_MSKIAM) + BASELINE, "baseline"),
    "token": ("mskiam/token.hpp + sign_token", STD + "#include <mskiam/token.hpp>\n" + USE % "return token.value.size();", "baseline"),
    "provider": ("providers.hpp (the provider and the sources) + token.hpp, TokenProvider", STD +
                 "#include <mskiam/providers.hpp>\n#include <mskiam/token.hpp>\n" +
                 USE % PROVIDER, "baseline"),
    "mskiam": ("mskiam/mskiam.hpp (umbrella), same use", STD + "#include <mskiam/mskiam.hpp>\n" + USE % PROVIDER, "baseline"),
    "own": ("same, TokenProvider over a source of the TU's own", STD + "#include <mskiam/mskiam.hpp>\n" + OWN_SOURCE +
            USE % (OWN % "OwnSource"), "baseline"),
    "own_any": ("same, the own source passed as an AnySource", STD + "#include <mskiam/mskiam.hpp>\n" + OWN_SOURCE +
                USE % (OWN % "mskiam::AnySource"), "baseline"),
}
if have_rdkafka:
    tus["rdkafka_baseline"] = ("librdkafka app without mskiam (rdkafka.h, rdkafkacpp.h)", STD + LIBRDKAFKA + KAFKA % "", None)
    tus["rdkafka"] = ("same + mskiam.hpp + rdkafka.hpp, DefaultChain, both attach()", STD + LIBRDKAFKA +
                      "#include <mskiam/mskiam.hpp>\n#include <mskiam/rdkafka.hpp>\n" + KAFKA % ATTACH, "rdkafka_baseline")
for name, (_, source, _) in tus.items():
    with open(os.path.join(work, name + ".cpp"), "w") as f:
        f.write(source)

modes = {"header-only": [], "compiled": ["-DMSKIAM_COMPILED_LIB"]}


def compile_once(path, flags):
    command = [cxx, "-O2", "-std=c++17", "-I", include] + flags + ["-c", path, "-o", os.devnull]
    before, start = os.times(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall, after = time.perf_counter() - start, os.times()
    if result.returncode != 0:
        sys.stderr.write("compile failed: %s\n%s" % (" ".join(command), result.stderr))
        sys.exit(1)
    return (after.children_user - before.children_user) + (after.children_system - before.children_system), wall


jobs = [(name, mode) for name in tus for mode in modes]
samples = {job: ([], []) for job in jobs}
for name, mode in jobs:  # one untimed run each: warm the page cache, catch compile errors early
    compile_once(os.path.join(work, name + ".cpp"), modes[mode])
for _ in range(runs):
    for name, mode in jobs:
        cpu, wall = compile_once(os.path.join(work, name + ".cpp"), modes[mode])
        samples[(name, mode)][0].append(cpu)
        samples[(name, mode)][1].append(wall)
med = {job: (statistics.median(c), statistics.median(w)) for job, (c, w) in samples.items()}
best = {job: min(c) for job, (c, _) in samples.items()}
library = compile_once(os.path.join(root, "src", "mskiam.cpp"), modes["compiled"])

print("\n%d runs each, median; CPU s (wall s), and CPU s added to the TU without mskiam\n" % runs)
print("%-62s %-22s %-22s" % ("translation unit", "header-only", "compiled"))
print("%-62s %-22s %-22s" % ("-" * 62, "-" * 22, "-" * 22))
added = {}
for name, (label, _, base) in tus.items():
    cells = []
    for mode in modes:
        cpu, wall = med[(name, mode)]
        cell = "%.2f (%.2f)" % (cpu, wall)
        if base:
            added[(name, mode)] = cpu - med[(base, mode)][0]
            cell += " %+.2f" % added[(name, mode)]
        cells.append(cell)
    print("%-62s %-22s %-22s" % (label, cells[0], cells[1]))
print("%-62s %-22s %-22s" % ("src/mskiam.cpp, once per build (compiled mode only)", "-", "%.2f (%.2f)" % library))
print()
print("the %d standard headers of mskiam.hpp in the compiled mode: %s" % (len(STD_OF_MSKIAM), " ".join(STD_OF_MSKIAM)))
print("mskiam.hpp, compiled mode, beyond them: %+.2f s" % (med[("mskiam", "compiled")][0] - med[("standard", "compiled")][0]))
print()
for (name, mode), value in added.items():
    if name == "standard":
        continue
    best_added = best[(name, mode)] - best[(tus[name][2], mode)]
    print("target: <= 0.5 s added per TU, %-11s %-50s %+.2f s best run (median %+.2f s) -> %s" % (
        mode + ":", tus[name][0], best_added, value, "met" if best_added <= 0.5 else "NOT met"))
PY
