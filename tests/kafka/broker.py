#!/usr/bin/python3
"""A real Apache Kafka broker that authenticates like Amazon MSK with IAM, for the tests.

One KRaft node (broker + controller) on 127.0.0.1, from Apache Kafka's Maven Central jars, with an
OAUTHBEARER validator (src/main/java/mskiam/testbroker) that checks MSK IAM tokens against the same
credential registry as tests/emulator/msk_emulator.py, names clients `IAM:<arn>`, and writes a JSON-lines
event log and a snapshot of Kafka's own socket-server metrics. Python 3 standard library only.

    broker.py prepare                      # resolve, compile, cache; prints the classpath dir last
    broker.py run --work-dir DIR --registry REG.json --region us-east-1 --port-file PORT \
        --events EVENTS.jsonl [--metrics METRICS.json] [--session-lifetime-ms 4000] ...
    broker.py --port 0 --port-file PORT --registry REG.json ...   # msk_emulator.py's command line:
                                                                  # `run`, work dir beside PORT

As a module: KafkaBroker(work_dir, registry, region, ...).start() -> .bootstrap, .events(), .metrics(),
.log_text(), .stop().

Layout, top to bottom: prepare (Java, Maven, the cached classpath), configuration, the broker process,
the CLI.
"""
import argparse
import base64
import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_VERSION = "4.4.0"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mskiam")
MAVEN_REPO = os.path.join(CACHE, "m2")
LOG4J_CONFIG = os.path.join(HERE, "log4j2.properties")
JVM_OPTIONS = ["-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-XX:-UsePerfData", "-Djava.awt.headless=true"]
VALIDATOR = "mskiam.testbroker.IamValidator"
PRINCIPAL_BUILDER = "mskiam.testbroker.IamPrincipalBuilder"


def progress(message):
    print("kafka-broker: " + message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# prepare: Java and Maven from Debian when missing, then `mvn package` once per version of the sources,
# its jars copied to ~/.cache/mskiam/kafka-<version>-<hash of pom.xml and src/>/. A warm run runs no Maven.


def sources_hash():
    digest = hashlib.sha256()
    files = [os.path.join(HERE, "pom.xml")]
    for root, dirs, names in os.walk(os.path.join(HERE, "src")):
        dirs.sort()
        files += [os.path.join(root, n) for n in sorted(names)]
    for path in files:
        digest.update(os.path.relpath(path, HERE).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read() + b"\0")
    return digest.hexdigest()[:16]


def classpath_dir():
    return os.path.join(CACHE, "kafka-%s-%s" % (KAFKA_VERSION, sources_hash()))


def ensure_java_and_maven():
    """Debian's OpenJDK 17 and Maven, installed with apt when either is missing (CI starts bare)."""
    if shutil.which("java") and shutil.which("javac") and shutil.which("mvn"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("java, javac or mvn is missing and installing them needs root: "
                           "apt-get install openjdk-17-jdk-headless maven")
    progress("installing openjdk-17-jdk-headless and maven with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env, stdout=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "openjdk-17-jdk-headless", "maven"],
                   check=True, env=env, stdout=sys.stderr)


def run_maven(build_dir):
    base = ["mvn", "-B", "-q", "-Dmaven.repo.local=" + MAVEN_REPO, "-Dmskiam.build.dir=" + build_dir,
            "-f", os.path.join(HERE, "pom.xml"), "package"]

    def maven(args):
        # Quiet Maven still prints colour codes; its output is shown only when it fails.
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return done.returncode, done.stdout

    if os.path.isdir(MAVEN_REPO):
        # Offline first: a repository filled by an earlier run needs no network.
        if maven(base[:1] + ["-o"] + base[1:])[0] == 0:
            return
        progress("offline build failed; resolving from Maven Central")
    code, output = maven(base)
    if code != 0:
        sys.stderr.write(output)
        raise RuntimeError("mvn package failed (exit %d), output above" % code)


def prepare():
    """Returns the directory holding the broker's classpath (every jar in it), building it if needed."""
    target = classpath_dir()
    if os.path.exists(os.path.join(target, "complete")):
        return target
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, "kafka-prepare.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # tests started in parallel build once
        if os.path.exists(os.path.join(target, "complete")):
            return target
        started = time.monotonic()
        ensure_java_and_maven()
        progress("building the test broker (Apache Kafka %s) with Maven" % KAFKA_VERSION)
        build_dir = tempfile.mkdtemp(prefix="kafka-build-", dir=CACHE)
        try:
            run_maven(build_dir)
            staging = tempfile.mkdtemp(prefix="kafka-classpath-", dir=CACHE)
            jars = [os.path.join(build_dir, "lib", n) for n in os.listdir(os.path.join(build_dir, "lib"))]
            jars += [os.path.join(build_dir, n) for n in os.listdir(build_dir) if n.endswith(".jar")]
            for jar in jars:
                shutil.copy2(jar, staging)
            with open(os.path.join(staging, "complete"), "w") as f:
                f.write("%d jars\n" % len(jars))
            if os.path.exists(target):
                shutil.rmtree(target)
            os.rename(staging, target)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        progress("prepared %s in %.1f s" % (target, time.monotonic() - started))
        return target


# --------------------------------------------------------------------------------------------------
# Configuration


def default_host(region):
    return "kafka.%s.amazonaws.com" % region  # China too, as every official signer signs it


def free_ports(count):
    """Ports the kernel just handed out on 127.0.0.1 (bound together, so distinct). Kafka binds them a
    moment later; a lost race shows as a start-up failure and start() tries again with new ones."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def jaas_value(value):
    value = str(value)
    if any(c in value for c in '"\\\n;'):
        raise ValueError("JAAS option value %r: quotes, backslashes, newlines and ';' are not supported" % value)
    return '"%s"' % value


def new_cluster_id():
    """A Kafka Uuid: 16 random bytes, unpadded base64url (what `kafka-storage random-uuid` prints).
    Like Kafka's own, never one that starts with '-': a command line would read it as an option."""
    while True:
        uuid = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
        if not uuid.startswith("-"):
            return uuid


class KafkaBroker:
    """One single-node Kafka for a test; see the module docstring."""

    def __init__(self, work_dir, registry, region, host=None, session_lifetime_ms=None, max_skew_s=300,
                 tls_cert=None, tls_key=None, events=None, metrics=None, topic_partitions=3,
                 initial_rebalance_delay_ms=0, port_file=None):
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("tls_cert and tls_key go together")
        self.work_dir = os.path.abspath(work_dir)
        self.registry = os.path.abspath(registry)
        self.region = region
        self.host = host or default_host(region)
        self.session_lifetime_ms = session_lifetime_ms
        self.max_skew_s = max_skew_s
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.events_path = os.path.abspath(events or os.path.join(self.work_dir, "events.jsonl"))
        self.metrics_path = os.path.abspath(metrics or os.path.join(self.work_dir, "metrics.json"))
        self.topic_partitions = topic_partitions
        self.initial_rebalance_delay_ms = initial_rebalance_delay_ms
        self.port_file = port_file
        self.listener = "SASL_SSL" if tls_cert else "SASL_PLAINTEXT"
        self.log_path = os.path.join(self.work_dir, "broker.log")
        self.port = None
        self.proc = None
        self.startup_s = None

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def _server_properties(self, sasl_port, plain_port, controller_port):
        listener = self.listener
        prefix = "listener.name.%s." % listener.lower()
        jaas_options = {"registry": self.registry, "region": self.region, "host": self.host,
                        "max_skew_s": self.max_skew_s, "events": self.events_path,
                        "metrics": self.metrics_path, "listener": listener,
                        # The login module also logs the broker in on this listener (it would be the
                        # client side of inter-broker traffic, which stays on PLAINTEXT): Kafka's
                        # unsecured token maker needs a subject for that, never sent anywhere.
                        "unsecuredLoginStringClaim_sub": "broker"}
        jaas = ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                + " ".join("%s=%s" % (k, jaas_value(v)) for k, v in jaas_options.items()) + ";")
        listeners = "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d,%s://127.0.0.1:%d" % (
            plain_port, controller_port, listener, sasl_port)
        props = {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.bootstrap.servers": "127.0.0.1:%d" % controller_port,
            "listeners": listeners,
            "advertised.listeners": listeners,
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map":
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,%s:%s" % (listener, listener),
            "log.dirs": os.path.join(self.work_dir, "kafka-logs"),
            "principal.builder.class": PRINCIPAL_BUILDER,
            "sasl.enabled.mechanisms": "OAUTHBEARER",
            prefix + "sasl.enabled.mechanisms": "OAUTHBEARER",
            prefix + "oauthbearer.sasl.jaas.config": jaas,
            prefix + "oauthbearer.sasl.server.callback.handler.class": VALIDATOR,
            "auto.create.topics.enable": "true",
            "num.partitions": self.topic_partitions,
            "default.replication.factor": 1,
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "transaction.state.log.num.partitions": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": self.initial_rebalance_delay_ms,
        }
        if self.session_lifetime_ms is not None:
            props[prefix + "oauthbearer.connections.max.reauth.ms"] = self.session_lifetime_ms
        if self.tls_cert:
            keystore = os.path.join(self.work_dir, "keystore.pem")
            with open(keystore, "w") as out:
                for part in (self.tls_key, self.tls_cert):
                    with open(part) as f:
                        out.write(f.read().strip() + "\n")
            props[prefix + "ssl.keystore.type"] = "PEM"
            props[prefix + "ssl.keystore.location"] = keystore
        return "".join("%s=%s\n" % (k, str(v).replace("\\", "\\\\")) for k, v in props.items())

    def _java(self, classpath, main, *args, **popen):
        command = (["java"] + JVM_OPTIONS + ["-Dlog4j2.configurationFile=" + LOG4J_CONFIG,
                                             "-Dmskiam.broker.log=" + self.log_path,
                                             "-cp", os.path.join(classpath, "*"), main] + list(args))
        return subprocess.Popen(command, preexec_fn=_term_when_parent_dies, **popen)

    def start(self, timeout_s=60, attempts=3):
        started = time.monotonic()
        classpath = prepare()
        os.makedirs(self.work_dir, exist_ok=True)
        for attempt in range(1, attempts + 1):
            if self._start_once(classpath, started + timeout_s):
                self.startup_s = time.monotonic() - started
                progress("broker ready on %s (%s) in %.1f s" % (self.bootstrap, self.listener, self.startup_s))
                self._event("broker_started", port=self.port, region=self.region, host=self.host,
                            tls=bool(self.tls_cert), startup_ms=int(self.startup_s * 1000))
                if self.port_file:
                    write_atomically(self.port_file, "%d\n" % self.port)
                return self
            progress("attempt %d: Kafka exited during start-up (a port taken meanwhile?); see %s"
                     % (attempt, self.log_path))
        raise RuntimeError("the Kafka broker did not start; see %s:\n%s" % (self.log_path, self.log_tail()))

    def _start_once(self, classpath, deadline):
        """True once ready, False when Kafka exited (worth another try with new ports); raises when
        it is still not ready at the deadline."""
        logs = os.path.join(self.work_dir, "kafka-logs")
        shutil.rmtree(logs, ignore_errors=True)
        sasl_port, plain_port, controller_port = free_ports(3)
        properties = os.path.join(self.work_dir, "server.properties")
        with open(properties, "w") as f:
            f.write(self._server_properties(sasl_port, plain_port, controller_port))
        with open(os.path.join(self.work_dir, "storage-format.out"), "w") as out:
            fmt = self._java(classpath, "kafka.tools.StorageTool", "format", "--standalone",
                             "--cluster-id=" + new_cluster_id(), "-c", properties, stdout=out, stderr=subprocess.STDOUT)
            if fmt.wait() != 0:
                raise RuntimeError("kafka-storage format failed: see %s" % out.name)
        self.port = sasl_port
        return self._launch(classpath, properties, deadline)

    def restart(self, timeout_s=60):
        """A rolling restart of this one broker: Kafka's clean shutdown, then Kafka again on the same
        ports and log directories (what was acknowledged stays). Clients see their connections close,
        then reconnect and authenticate afresh."""
        self.stop()
        started = time.monotonic()
        properties = os.path.join(self.work_dir, "server.properties")
        if not self._launch(prepare(), properties, started + timeout_s):
            raise RuntimeError("the Kafka broker did not start again; see %s:\n%s" % (self.log_path, self.log_tail()))
        progress("broker restarted on %s in %.1f s" % (self.bootstrap, time.monotonic() - started))
        self._event("broker_restarted", port=self.port, startup_ms=int((time.monotonic() - started) * 1000))

    def _launch(self, classpath, properties, deadline):
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.stdout = open(os.path.join(self.work_dir, "broker.stdout"), "a")
        self.proc = self._java(classpath, "kafka.Kafka", properties, stdout=self.stdout,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                self.stdout.close()
                return False
            if "Kafka Server started" in self.log_text()[self._log_offset:] and self._answers_api_versions():
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Kafka broker was not ready in time; see %s:\n%s" % (self.log_path, self.log_tail()))

    def _answers_api_versions(self):
        """An ApiVersions v0 round trip on the SASL listener: Kafka answers it before authentication,
        only once the listener processes requests."""
        request = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
        try:
            with contextlib.ExitStack() as stack:
                sock = stack.enter_context(socket.create_connection(("127.0.0.1", self.port), timeout=2))
                if self.tls_cert:
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE  # the probe only asks whether Kafka answers
                    sock = stack.enter_context(context.wrap_socket(sock))
                sock.sendall(struct.pack(">i", len(request)) + request)
                header = _read_exactly(sock, 10)
                return struct.unpack(">iih", header)[1:] == (1, 0)
        except (OSError, ssl.SSLError, struct.error):
            return False

    def stop(self, timeout_s=30):
        """SIGTERM (Kafka's clean shutdown), then SIGKILL after timeout_s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                progress("the broker did not stop in %d s: killing it" % timeout_s)
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.stdout.close()
        self._event("broker_stopped")

    def _event(self, name, **fields):
        """The broker's own events, in the validator's file: lines appended whole (O_APPEND) by both."""
        record = dict({"ts_ms": int(time.time() * 1000), "event": name}, **fields)
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def events(self, kind=None):
        if not os.path.exists(self.events_path):
            return []
        with open(self.events_path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.endswith("\n")]
        return [e for e in records if kind is None or e["event"] == kind]

    def metrics(self):
        try:
            with open(self.metrics_path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _term_when_parent_dies():
    """In the child before exec: SIGTERM when this process dies, so that a test killed by its timeout
    leaves no JVM behind (Linux prctl PR_SET_PDEATHSIG). Linux ties it to the thread that started the
    child: start a broker from a thread that lives as long as the broker (normally the main thread)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# CLI


def main(argv=None):
    p = argparse.ArgumentParser(description="A real Apache Kafka broker with an MSK-like IAM validator.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="resolve, compile and cache the broker; prints the classpath dir")
    run = sub.add_parser("run", help="run one broker in the foreground until SIGTERM/SIGINT")
    run.add_argument("--work-dir", help="fresh log dir, server.properties, broker.log "
                     "(default: kafka-broker/ beside --port-file, else a new temporary directory)")
    run.add_argument("--registry", required=True, help="credential registry JSON file")
    run.add_argument("--region", required=True)
    run.add_argument("--host", help="expected token host (default kafka.<region>.amazonaws.com)")
    run.add_argument("--session-lifetime-ms", type=int, help="connections.max.reauth.ms of the SASL listener")
    run.add_argument("--max-skew-s", type=int, default=300, help="allowed X-Amz-Date skew (default 300)")
    run.add_argument("--tls-cert", help="PEM certificate: serve SASL_SSL")
    run.add_argument("--tls-key", help="PEM private key (PKCS#8) for --tls-cert")
    run.add_argument("--port-file", help="the SASL port is written here (atomically) once clients can connect")
    run.add_argument("--port", type=int, default=0, help="accepted for the emulator's sake: only 0 (any port)")
    run.add_argument("--events", help="JSON-lines event log (appended)")
    run.add_argument("--metrics", help="JSON metrics snapshot (default WORK_DIR/metrics.json)")
    run.add_argument("--topic-partitions", type=int, default=3, help="partitions of auto-created topics")
    run.add_argument("--initial-rebalance-delay-ms", type=int, default=0,
                     help="group.initial.rebalance.delay.ms (Kafka's default is 3000)")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0].startswith("--") and argv[0] not in ("-h", "--help"):
        argv = ["run"] + argv  # the emulator's command line, as it is
    args = p.parse_args(argv)

    if args.command == "prepare":
        print(prepare(), flush=True)
        return 0
    if args.port != 0:
        p.error("--port: the broker picks free ports itself; use --port-file")
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.session_lifetime_ms is not None and args.session_lifetime_ms <= 0:
        p.error("--session-lifetime-ms must be > 0")

    work_dir = args.work_dir
    if work_dir is None:
        work_dir = (os.path.join(os.path.dirname(os.path.abspath(args.port_file)), "kafka-broker")
                    if args.port_file else tempfile.mkdtemp(prefix="kafka-broker-"))
    done, restart = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGHUP, lambda *_: restart.set())  # broker.restart(): the chaos suite's
    broker = KafkaBroker(work_dir, args.registry, args.region, host=args.host,
                         session_lifetime_ms=args.session_lifetime_ms, max_skew_s=args.max_skew_s,
                         tls_cert=args.tls_cert, tls_key=args.tls_key, events=args.events, metrics=args.metrics,
                         topic_partitions=args.topic_partitions,
                         initial_rebalance_delay_ms=args.initial_rebalance_delay_ms, port_file=args.port_file)
    try:
        broker.start()
        print("kafka-broker listening on %s (%s, region %s), started in %.1f s"
              % (broker.bootstrap, broker.listener, args.region, broker.startup_s), flush=True)
        while not done.wait(0.1):
            if restart.is_set():
                restart.clear()
                broker.restart()
            if broker.proc is None or broker.proc.poll() is not None:
                progress("the broker exited on its own:\n" + broker.log_tail())
                return 1
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
