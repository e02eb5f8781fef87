#!/usr/bin/python3
"""The incident's own stacks beside mskiam, against one MSK-IAM broker and one credential rotation.

Each stack runs alone against a fresh broker (the real Kafka broker of tests/kafka/broker.py, or the
emulator of tests/emulator) and fresh AWS fakes (tests/fakes) whose web identity credentials live
20 s, with broker sessions of 4 s: a producer sends --count messages at one a second, acks=all, while
a consumer reads them back. The stacks:

  js-signer-default   kafkajs + aws-msk-iam-sasl-signer-js generateAuthToken (its own default chain)
  js-sdk-chain        kafkajs + the signer over the application's fromNodeProviderChain()
                      (AWS SDK for JavaScript v3: session names aws-sdk-js-session-<ms>)
  js-sdk-chain-noexp  the same, the credentials' expiration hidden from the signer (see js/client.js)
  java                kafka-clients + aws-msk-iam-auth (OAUTHBEARER) + AWS SDK for Java v2 default chain
  mskiam              mskiam's examples (--mskiam-examples DIR), DefaultChain over the same web identity

It prints one table: the STS session names each stack chose, authentications and re-authentications
at the broker, refusals with Kafka's "Cannot change principals" text, other authentication failures,
connections, and produced / acknowledged / consumed / lost / duplicated. The figures are printed,
never asserted: exit status 0 when every stack ran, 1 when one could not run at all.

    /usr/bin/python3 tests/incident/run.py [--broker kafka|emulator] [--broker-script PATH]
        [--stacks js-sdk-chain,java,...] [--count 45] [--mskiam-examples DIR] [--work-dir DIR]
        [--json OUT]

Dependencies are installed on first use, outside the source tree: Node.js, npm, Java 17 and Maven
from Debian when missing; `npm ci` of package-lock.json into ~/.cache/mskiam/incident/npm; the Java
client with Maven (local repository ~/.cache/mskiam/m2) into ~/.cache/mskiam/incident/java-<hash>.
"""

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"  # Debian's, with python3-botocore, for the fakes and the brokers
FAKES = os.path.join(ROOT, "tests", "fakes", "aws_fakes.py")
EMULATOR = os.path.join(ROOT, "tests", "emulator", "msk_emulator.py")
KAFKA_BROKER = os.path.join(ROOT, "tests", "kafka", "broker.py")
SECRET_SWEEP = os.path.join(ROOT, "tests", "secret_sweep.py")
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mskiam")
MAVEN_REPO = os.path.join(CACHE, "m2")

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/MskRole"
CREDENTIAL_LIFETIME_S = 20
SESSION_LIFETIME_MS = 4000
STACK_TIMEOUT_S = 90           # each stack's client, start to summary
START_TIMEOUT_S = 90           # a broker or the fakes, until the port file appears
REFUSAL_TEXT = "Cannot change principals"
# Not a real token: the fakes check only its length unless told to expect one.
WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aW5jaWRlbnQifQ.aW5jaWRlbnQtc2ln"

ALL_STACKS = ["js-signer-default", "js-sdk-chain", "js-sdk-chain-noexp", "java", "mskiam"]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# The table: what run() measured for each stack, one row each.

COLUMNS = [("stack", "stack"), ("session_names", "session names"), ("sts_calls", "STS calls"),
           ("authentications", "auth"), ("reauthentications", "re-auth"), ("refusals", "refused"),
           ("other_auth_failures", "other auth fail"), ("connections", "conns"),
           ("produced", "prod"), ("acknowledged", "acked"), ("consumed", "cons"), ("lost", "lost"),
           ("duplicated", "dup")]


def table(rows):
    cells = [[h for _, h in COLUMNS]] + [[str(r.get(k, "-")) for k, _ in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    notes = []
    for r in rows:
        if r.get("first_auth_error"):
            notes.append("%s: first authentication error: %s" % (r["stack"], r["first_auth_error"]))
        if r.get("first_broker_refusal") and r["first_broker_refusal"] not in str(r.get("first_auth_error")):
            notes.append("%s: the broker's first refusal: %s" % (r["stack"], r["first_broker_refusal"]))
        if r.get("crashed"):
            notes.append("%s: the consumer crashed on a non-retriable error and stopped reading" % r["stack"])
        if r.get("note"):
            notes.append("%s: %s" % (r["stack"], r["note"]))
    return "\n".join(lines + [""] + notes)


def markdown(rows):
    """The table for docs/comparison.md; names in code spans, since `<ms>` is not HTML."""
    out = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [str(r.get(k, "-")) for k, _ in COLUMNS]
        cells[0], cells[1] = "`%s`" % cells[0], "`%s`" % cells[1]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# Dependencies: installed when missing, outside the source tree, once per version of their inputs.

def apt_install(packages):
    if os.geteuid() != 0:
        raise RuntimeError("missing %s; installing them needs root (apt-get install %s)"
                           % (", ".join(packages), " ".join(packages)))
    log("incident: apt-get install " + " ".join(packages))
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages, check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def ensure_tools(need_js, need_java):
    missing = []
    if need_js:
        missing += [p for p, tool in (("nodejs", "node"), ("npm", "npm")) if not shutil.which(tool)]
    if need_java:
        missing += [p for p, tool in (("openjdk-17-jdk-headless", "javac"), ("maven", "mvn"))
                    if not shutil.which(tool)]
    if missing:
        apt_install(missing)


def digest(paths):
    h = hashlib.sha256()
    for path in paths:
        h.update(os.path.relpath(path, HERE).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read() + b"\0")
    return h.hexdigest()[:16]


def ensure_npm():
    """`npm ci` of package-lock.json into ~/.cache/mskiam/incident/npm; returns its node_modules."""
    inputs = [os.path.join(HERE, "package.json"), os.path.join(HERE, "package-lock.json")]
    target = os.path.join(CACHE, "incident", "npm")
    stamp = os.path.join(target, "installed-" + digest(inputs))
    if not os.path.exists(stamp):
        started = time.time()
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        for path in inputs:
            shutil.copy(path, target)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, check=True,
                       stdout=sys.stderr)
        open(stamp, "w").close()
        log("incident: npm ci: %.1f s" % (time.time() - started))
    return os.path.join(target, "node_modules")


def ensure_java_client():
    """The Java client built with Maven into ~/.cache/mskiam/incident/java-<hash>; returns its classpath."""
    sources = [os.path.join(HERE, "pom.xml")]
    for root, dirs, names in os.walk(os.path.join(HERE, "java")):
        dirs.sort()
        sources += [os.path.join(root, n) for n in sorted(names)]
    build = os.path.join(CACHE, "incident", "java-" + digest(sources))
    classpath_file = os.path.join(build, "classpath.txt")
    jar = os.path.join(build, "incident-java-0.jar")
    if not (os.path.exists(classpath_file) and os.path.exists(jar)):
        started = time.time()
        for old in os.listdir(os.path.dirname(build)) if os.path.isdir(os.path.dirname(build)) else []:
            if old.startswith("java-"):  # builds of earlier sources
                shutil.rmtree(os.path.join(os.path.dirname(build), old), ignore_errors=True)
        subprocess.run(["mvn", "-B", "-q", "-Dstyle.color=never", "-f", os.path.join(HERE, "pom.xml"),
                        "-Dmaven.repo.local=" + MAVEN_REPO, "-Dincident.build=" + build,
                        "package", "dependency:build-classpath", "-Dmdep.outputFile=" + classpath_file],
                       check=True, stdout=sys.stderr)
        log("incident: maven: %.1f s" % (time.time() - started))
    with open(classpath_file) as f:
        return jar + os.pathsep + f.read().strip()


# --------------------------------------------------------------------------------------------------
# Processes: the fakes and the broker each write a port file once they accept connections.

def stop_process(proc, grace_s):
    """SIGTERM to the process group, SIGKILL after grace_s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Service:
    def __init__(self, name, argv, directory, port_file):
        self.name = name
        self.port_file = port_file
        self.err = open(os.path.join(directory, name + ".err"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.err, stderr=subprocess.STDOUT, cwd=directory,
                                     start_new_session=True)

    def wait_port(self, timeout_s=START_TIMEOUT_S):
        deadline = time.time() + timeout_s
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("%s did not start (see %s)" % (self.name, self.err.name))
            time.sleep(0.1)
        with open(self.port_file) as f:
            return int(f.read().strip())

    def stop(self):
        stop_process(self.proc, 30)
        self.err.close()


def start_broker(kind, script, directory, registry):
    events = os.path.join(directory, "broker-events.jsonl")
    metrics = os.path.join(directory, "broker-metrics.json")
    port_file = os.path.join(directory, "broker.port")
    common = ["--registry", registry, "--region", REGION, "--session-lifetime-ms", str(SESSION_LIFETIME_MS),
              "--port-file", port_file, "--events", events]
    if kind == "kafka":
        argv = [PYTHON, script, "run", "--work-dir", os.path.join(directory, "kafka"), "--metrics", metrics]
    else:
        argv = [PYTHON, script, "--port", "0"]
    broker = Service("broker", argv + common, directory, port_file)
    broker.events_path, broker.metrics_path = events, metrics
    return broker


def read_jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------------
# The stacks: each returns the argv of its client; every client prints a JSON summary line last
# (mskiam's examples print `summary k=v ...` lines, read by mskiam_summary).

def client_env(directory, sts_url):
    """Only web identity answers the default chains: no other AWS variable, file or IMDS."""
    token_file = os.path.join(directory, "web-identity-token")
    with open(token_file, "w") as f:
        f.write(WEB_IDENTITY_TOKEN + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_REGION": REGION, "AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ROLE_ARN": ROLE_ARN,
                "AWS_ENDPOINT_URL_STS": sts_url,
                "AWS_CONFIG_FILE": os.path.join(directory, "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(directory, "no-aws-credentials"),
                "AWS_EC2_METADATA_DISABLED": "true", "KAFKAJS_NO_PARTITIONER_WARNING": "1"})
    return env


def js_argv(node_modules, mode, bootstrap, topic, count):
    variant = {"js-signer-default": ["--credentials", "signer-default"],
               "js-sdk-chain": ["--credentials", "sdk-chain"],
               "js-sdk-chain-noexp": ["--credentials", "sdk-chain", "--expiration", "hidden"]}[mode]
    return (["node", "--no-warnings", os.path.join(HERE, "js", "client.js"), "--bootstrap", bootstrap,
             "--topic", topic, "--count", str(count), "--region", REGION] + variant,
            {"NODE_PATH": node_modules})


def java_argv(classpath, bootstrap, topic, count, idempotence):
    return (["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
             "-cp", classpath, "mskiam.incident.Client", "--bootstrap", bootstrap, "--topic", topic,
             "--count", str(count), "--idempotence", "true" if idempotence else "false"], {})


def run_client(argv, extra_env, env, directory, name, timeout_s=STACK_TIMEOUT_S):
    out_path, err_path = (os.path.join(directory, name + ext) for ext in (".out", ".err"))
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=dict(env, **extra_env), cwd=directory,
                                start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:  # SIGTERM first: the clients then print their figures so far
            timed_out = True
            stop_process(proc, 10)
    return read_text(out_path), read_text(err_path), timed_out


def json_summary(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return None


def example_values(path, verb):
    """The message values of an example's `delivered <topic>/<p>@<offset> <value>` (or `consumed`) lines."""
    return [line.split()[2] for line in read_text(path).splitlines()
            if line.startswith(verb + " ") and len(line.split()) >= 3]


def run_mskiam(examples, env, directory, bootstrap, topic, count):
    """mskiam's producer and consumer examples, the consumer stopped once it has read everything.
    The STS endpoint is given with --sts-endpoint as well as AWS_ENDPOINT_URL_STS, for builds of the
    examples that predate mskiam's endpoint settings."""
    base = ["--bootstrap", bootstrap, "--region", REGION, "--topic", topic,
            "--security-protocol", "SASL_PLAINTEXT", "--events", "--sts-endpoint", env["AWS_ENDPOINT_URL_STS"]]
    path = lambda name, ext: os.path.join(directory, "mskiam-%s.%s" % (name, ext))
    procs = {}
    for name, extra in (("consumer", ["--group", "incident-mskiam", "--count", "0"]),
                        ("producer", ["--count", str(count), "--interval-ms", "1000",
                                      "--message-prefix", "incident-mskiam"])):
        with open(path(name, "out"), "w") as out, open(path(name, "err"), "w") as err:
            procs[name] = subprocess.Popen([os.path.join(examples, "mskiam-" + name)] + base + extra,
                                           stdout=out, stderr=err, env=env, cwd=directory, start_new_session=True)
    timed_out = False
    try:
        procs["producer"].wait(STACK_TIMEOUT_S - 20)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_process(procs["producer"], 10)
    acked = set(example_values(path("producer", "out"), "delivered"))
    deadline = time.time() + 20
    while time.time() < deadline and not acked <= set(example_values(path("consumer", "out"), "consumed")):
        time.sleep(0.5)
    stop_process(procs["consumer"], 15)

    consumed = example_values(path("consumer", "out"), "consumed")
    summary = {}
    for line in reversed(read_text(path("producer", "out")).splitlines()):
        if line.startswith("summary "):
            summary = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            break
    errors = read_text(path("producer", "err")) + read_text(path("consumer", "err"))
    auth = [l for l in errors.splitlines() if re.search(r"SASL|[Aa]uthenticat", l)]
    version = subprocess.run([os.path.join(examples, "mskiam-producer"), "--version"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
    return {
        "stack": "mskiam examples (DefaultChain): " + " ".join(version.split()),
        "produced": int(summary.get("produced", 0)), "acknowledged": len(acked),
        "consumed": len(consumed), "lost": len(acked - set(consumed)),
        "duplicated": len(consumed) - len(set(consumed)),
        "first_auth_error": auth[0] if auth else None, "timed_out": timed_out,
        "principal_changes": summary.get("principal_changes"),
    }


# --------------------------------------------------------------------------------------------------
# One stack, start to finish: fakes, broker, client, then the figures from all three.

def short_names(names):
    """aws-sdk-js-session-1796353058718 ... -> 'aws-sdk-js-session-<ms> x12'."""
    patterns = collections.Counter(re.sub(r"\d{10,}", "<ms>", n) for n in names)
    return ", ".join("%s x%d" % (p, c) if c > 1 else p for p, c in sorted(patterns.items())) or "-"


def broker_figures(broker, kind):
    events = read_jsonl(broker.events_path)
    kinds = collections.Counter(e.get("event") for e in events)
    auth = [e for e in events if e.get("event") == "authenticated"]
    failures = [e for e in events if e.get("event") == "auth_failed"]
    refusals = [e for e in events if e.get("event") == "reauth_refused_principal_change"]
    refusal_reasons = [f for f in failures if REFUSAL_TEXT in str(f.get("reason", ""))]
    figures = {
        "authentications": sum(1 for e in auth if not e.get("reauth")),
        "reauthentications": sum(1 for e in auth if e.get("reauth")),
        "refusals": len(refusals) + len(refusal_reasons),
        "other_auth_failures": len(failures) - len(refusal_reasons),
        "connections": kinds.get("connection_opened", 0),
        "session_expired_disconnects": kinds.get("session_expired_disconnect", 0),
        "broker_events": dict(kinds),
        "principals": sorted(set(e.get("principal", "") for e in auth)),
    }
    first_failure = next((f.get("reason") for f in failures + [e for e in events if e.get("event") == "token_refused"]),
                         None)
    if first_failure:
        figures["first_broker_refusal"] = first_failure
    if kind == "kafka":
        figures.update(kafka_figures(broker))
    return figures


def kafka_figures(broker):
    """Apache Kafka's own counters (socket-server metrics of the SASL listener) and its log, where
    SaslServerAuthenticator's refusal reads "Failed re-authentication ... (Cannot change principals ...)"."""
    log_text = read_text(os.path.join(os.path.dirname(broker.events_path), "kafka", "broker.log"))
    refusals = sum(1 for line in log_text.splitlines() if REFUSAL_TEXT in line)
    try:
        with open(broker.metrics_path) as f:
            metrics = json.load(f)
    except (OSError, ValueError):
        return {"refusals": refusals, "note": "no broker metrics snapshot"}
    m = metrics.get("socket_server", {})
    count = lambda name: int(m.get(name, 0))
    return {
        "authentications": count("successful-authentication-total"),
        "reauthentications": count("successful-reauthentication-total"),
        "refusals": refusals,
        "other_auth_failures": count("failed-authentication-total") + count("failed-reauthentication-total")
        - refusals,
        "connections": count("connection-creation-total"),
        "broker_metrics": metrics,
    }


def run_stack(stack, args, deps):
    directory = os.path.join(args.work_dir, stack)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    registry = os.path.join(directory, "registry.json")
    fakes_log = os.path.join(directory, "fakes.jsonl")
    started = time.time()
    fakes = Service("fakes", [PYTHON, FAKES, "--port", "0", "--port-file", os.path.join(directory, "fakes.port"),
                              "--registry", registry, "--log", fakes_log,
                              "--credential-lifetime-s", str(CREDENTIAL_LIFETIME_S)],
                    directory, os.path.join(directory, "fakes.port"))
    broker = start_broker(args.broker, args.broker_script, directory, registry)
    row = {"stack": stack}
    try:
        sts_url = "http://127.0.0.1:%d" % fakes.wait_port()
        try:
            bootstrap = "127.0.0.1:%d" % broker.wait_port()
        except RuntimeError as e:  # one more try: a broker that failed to start says nothing of a stack
            log("incident: %s; starting it again" % e)
            broker.stop()
            os.rename(broker.err.name, broker.err.name + ".1")
            shutil.rmtree(os.path.join(directory, "kafka"), ignore_errors=True)
            broker = start_broker(args.broker, args.broker_script, directory, registry)
            bootstrap = "127.0.0.1:%d" % broker.wait_port()
        row["broker_start_s"] = round(time.time() - started, 1)
        env = client_env(directory, sts_url)
        topic = "incident-" + stack
        client_started = time.time()
        if stack == "mskiam":
            summary = run_mskiam(args.mskiam_examples, env, directory, bootstrap, topic, args.count)
        else:
            if stack == "java":
                argv, extra = java_argv(deps["java"], bootstrap, topic, args.count, idempotence=True)
            else:
                argv, extra = js_argv(deps["npm"], stack, bootstrap, topic, args.count)
            stdout, stderr, timed_out = run_client(argv, extra, env, directory, "client")
            summary = json_summary(stdout)
            if summary is None:
                raise RuntimeError("the client printed no summary%s (see %s/client.err): %s"
                                   % (" and timed out" if timed_out else "", directory, stderr[-500:]))
            summary["timed_out"] = timed_out
            summary["client_refusal_lines"] = stderr.count(REFUSAL_TEXT)
        row["client_s"] = round(time.time() - client_started, 1)
        row.update({k: v for k, v in summary.items() if k != "stack"})
        row["client"] = summary.get("stack")
    finally:
        broker.stop()
        fakes.stop()
    issued = [e for e in read_jsonl(fakes_log) if e.get("endpoint") == "sts" and e.get("status") == 200]
    names = sorted(set(e.get("role_session_name", "") for e in issued))
    row.update({"sts_calls": len(issued), "session_names": short_names(names),
                "distinct_session_names": len(names)})
    row.update(broker_figures(broker, args.broker))
    row["total_s"] = round(time.time() - started, 1)
    return row


def sweep_secrets(work_dir):
    """No secret the fakes issued, nor the web identity token, may appear in any output of the runs."""
    proc = subprocess.run([PYTHON, SECRET_SWEEP, work_dir, WEB_IDENTITY_TOKEN], capture_output=True, text=True)
    log(proc.stdout.strip() + proc.stderr.strip())
    return proc.returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", choices=["kafka", "emulator"], default="kafka")
    parser.add_argument("--broker-script", help="broker program (default tests/kafka/broker.py or "
                        "tests/emulator/msk_emulator.py)")
    parser.add_argument("--stacks", default=None, help="comma-separated, default all (mskiam only with "
                        "--mskiam-examples)")
    parser.add_argument("--count", type=int, default=45, help="messages per stack (one a second)")
    parser.add_argument("--mskiam-examples", help="directory with mskiam-producer and mskiam-consumer")
    parser.add_argument("--work-dir", default=os.path.join(os.getcwd(), "incident-work"))
    parser.add_argument("--json", help="write the rows here as JSON")
    args = parser.parse_args()
    args.work_dir = os.path.abspath(args.work_dir)
    if args.mskiam_examples:  # the clients run in their stack's directory
        args.mskiam_examples = os.path.abspath(args.mskiam_examples)
    if args.broker_script is None:
        args.broker_script = KAFKA_BROKER if args.broker == "kafka" else EMULATOR
    if not os.path.exists(args.broker_script):
        parser.error("%s not found: pass --broker-script PATH, or --broker emulator" % args.broker_script)
    stacks = args.stacks.split(",") if args.stacks else [s for s in ALL_STACKS
                                                        if s != "mskiam" or args.mskiam_examples]
    unknown = [s for s in stacks if s not in ALL_STACKS]
    if unknown or ("mskiam" in stacks and not args.mskiam_examples):
        parser.error("unknown stacks %s (or mskiam without --mskiam-examples)" % unknown)

    deps = {}
    timings = {}
    need_js = any(s.startswith("js-") for s in stacks)
    need_java = any(s.startswith("java") for s in stacks)
    ensure_tools(need_js, need_java or args.broker == "kafka")
    if need_js:
        t = time.time()
        deps["npm"] = ensure_npm()
        timings["npm_s"] = round(time.time() - t, 1)
    if need_java:
        t = time.time()
        deps["java"] = ensure_java_client()
        timings["java_build_s"] = round(time.time() - t, 1)
    if args.broker == "kafka":
        t = time.time()
        subprocess.run([PYTHON, args.broker_script, "prepare"], check=True, stdout=sys.stderr)
        timings["broker_prepare_s"] = round(time.time() - t, 1)
    log("incident: setup " + json.dumps(timings))

    rows, failed = [], []
    for stack in stacks:
        log("incident: %s against the %s broker" % (stack, args.broker))
        try:
            row = run_stack(stack, args, deps)
        except Exception as e:  # a stack that cannot run is reported; the others still run
            failed.append(stack)
            row = {"stack": stack, "note": "could not run: %s" % e}
        log("incident: %s: %s" % (stack, json.dumps({k: row.get(k) for k in ("total_s", "acknowledged",
                                                                             "refusals", "note")})))
        rows.append(row)

    secrets_clean = sweep_secrets(args.work_dir)
    print("broker: %s; credentials live %d s, broker sessions %d ms; %d messages per stack"
          % (args.broker, CREDENTIAL_LIFETIME_S, SESSION_LIFETIME_MS, args.count))
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"broker": args.broker, "credential_lifetime_s": CREDENTIAL_LIFETIME_S,
                       "session_lifetime_ms": SESSION_LIFETIME_MS, "count": args.count, "setup": timings,
                       "rows": rows, "markdown": markdown(rows)}, f, indent=2)
    if not secrets_clean:
        print("a secret appeared in the output of a run (see above)")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
