#!/usr/bin/python3
"""A real Apache Kafka broker that authenticates like Amazon MSK with IAM, for the tests.

One KRaft node (broker + controller) on 127.0.0.1, or a cluster of N such nodes (--nodes: a quorum of N
voters, replication factor N, min.insync.replicas 2), from Apache Kafka's Maven Central jars, with an
OAUTHBEARER validator (src/main/java/mskiam/testbroker) that checks MSK IAM tokens against the same
credential registry as tests/emulator/msk_emulator.py, names clients `IAM:<arn>`, and writes a JSON-lines
event log and a snapshot of Kafka's own socket-server metrics. Python 3 standard library only.

    broker.py prepare                      # resolve, compile, cache; prints the classpath dir last
    broker.py run --work-dir DIR --registry REG.json --region us-east-1 --port-file PORT \
        --events EVENTS.jsonl [--metrics METRICS.json] [--session-lifetime-ms 4000] ...
    broker.py --port 0 --port-file PORT --registry REG.json ...   # msk_emulator.py's command line:
                                                                  # `run`, work dir beside PORT

As a module: KafkaBroker(work_dir, registry, region, ...).start() -> .bootstrap, .events(), .metrics(),
.log_text(), .stop(); partition_leaders(port, topic) asks a node's PLAINTEXT listener who leads what.

A cluster keeps node i in WORK_DIR/node-<i>/ (one node: WORK_DIR itself) and writes WORK_DIR/nodes.json
(each node's id, pid and ports) whenever a node starts. Node 1's SASL port is the one of --port-file.

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


class Node:
    """One KRaft node (broker and controller) of a KafkaBroker: its id, directory, ports and JVM."""

    def __init__(self, node_id, directory):
        self.id = node_id
        self.dir = directory
        self.log_path = os.path.join(directory, "broker.log")
        self.properties = os.path.join(directory, "server.properties")
        self.sasl_port = self.plain_port = self.controller_port = None
        self.proc = None
        self.stdout = None
        self.log_offset = 0

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class KafkaBroker:
    """A Kafka of one node, or of `nodes` nodes, for a test; see the module docstring."""

    def __init__(self, work_dir, registry, region, host=None, session_lifetime_ms=None, max_skew_s=300,
                 tls_cert=None, tls_key=None, events=None, metrics=None, topic_partitions=3,
                 initial_rebalance_delay_ms=0, port_file=None, nodes=1):
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("tls_cert and tls_key go together")
        if nodes < 1:
            raise ValueError("nodes must be >= 1, got %r" % nodes)
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
        self.nodes = [Node(i, self.work_dir if nodes == 1 else os.path.join(self.work_dir, "node-%d" % i))
                      for i in range(1, nodes + 1)]
        self.log_path = self.nodes[0].log_path
        self.startup_s = None

    @property
    def port(self):
        return self.nodes[0].sasl_port

    @property
    def proc(self):
        return self.nodes[0].proc

    @property
    def bootstrap(self):
        return ",".join("127.0.0.1:%d" % n.sasl_port for n in self.nodes)

    def _server_properties(self, node):
        listener = self.listener
        prefix = "listener.name.%s." % listener.lower()
        # Node 1 writes the metrics snapshot asked for, the others theirs beside their logs.
        metrics = self.metrics_path if node is self.nodes[0] else os.path.join(node.dir, "metrics.json")
        jaas_options = {"registry": self.registry, "region": self.region, "host": self.host,
                        "max_skew_s": self.max_skew_s, "events": self.events_path,
                        "metrics": metrics, "listener": listener,
                        # The login module also logs the broker in on this listener (it would be the
                        # client side of inter-broker traffic, which stays on PLAINTEXT): Kafka's
                        # unsecured token maker needs a subject for that, never sent anywhere.
                        "unsecuredLoginStringClaim_sub": "broker"}
        jaas = ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                + " ".join("%s=%s" % (k, jaas_value(v)) for k, v in jaas_options.items()) + ";")
        listeners = "PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d,%s://127.0.0.1:%d" % (
            node.plain_port, node.controller_port, listener, node.sasl_port)
        replicas, min_isr = len(self.nodes), min(2, len(self.nodes))
        props = {
            "process.roles": "broker,controller",
            "node.id": node.id,
            "listeners": listeners,
            "advertised.listeners": listeners,
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map":
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,%s:%s" % (listener, listener),
            "log.dirs": os.path.join(node.dir, "kafka-logs"),
            "principal.builder.class": PRINCIPAL_BUILDER,
            "sasl.enabled.mechanisms": "OAUTHBEARER",
            prefix + "sasl.enabled.mechanisms": "OAUTHBEARER",
            prefix + "oauthbearer.sasl.jaas.config": jaas,
            prefix + "oauthbearer.sasl.server.callback.handler.class": VALIDATOR,
            "auto.create.topics.enable": "true",
            "num.partitions": self.topic_partitions,
            "default.replication.factor": replicas,
            "min.insync.replicas": min_isr,
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": 1,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": self.initial_rebalance_delay_ms,
        }
        if len(self.nodes) == 1:
            props["controller.quorum.bootstrap.servers"] = "127.0.0.1:%d" % node.controller_port
        else:  # a static quorum of every node
            props["controller.quorum.voters"] = ",".join(
                "%d@127.0.0.1:%d" % (n.id, n.controller_port) for n in self.nodes)
        if self.session_lifetime_ms is not None:
            props[prefix + "oauthbearer.connections.max.reauth.ms"] = self.session_lifetime_ms
        if self.tls_cert:
            keystore = os.path.join(node.dir, "keystore.pem")
            with open(keystore, "w") as out:
                for part in (self.tls_key, self.tls_cert):
                    with open(part) as f:
                        out.write(f.read().strip() + "\n")
            props[prefix + "ssl.keystore.type"] = "PEM"
            props[prefix + "ssl.keystore.location"] = keystore
        return "".join("%s=%s\n" % (k, str(v).replace("\\", "\\\\")) for k, v in props.items())

    def _java(self, node, classpath, main, *args, **popen):
        command = (["java"] + JVM_OPTIONS + ["-Dlog4j2.configurationFile=" + LOG4J_CONFIG,
                                             "-Dmskiam.broker.log=" + node.log_path,
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
                            tls=bool(self.tls_cert), startup_ms=int(self.startup_s * 1000),
                            **self._cluster_fields())
                if self.port_file:
                    write_atomically(self.port_file, "%d\n" % self.port)
                return self
            progress("attempt %d: Kafka exited during start-up (a port taken meanwhile?); see %s"
                     % (attempt, self.log_path))
        raise RuntimeError("the Kafka broker did not start; see %s:\n%s" % (self.log_path, self.log_tail()))

    def _start_once(self, classpath, deadline):
        """True once ready, False when Kafka exited (worth another try with new ports); raises when
        it is still not ready at the deadline."""
        ports = iter(free_ports(3 * len(self.nodes)))
        for node in self.nodes:
            os.makedirs(node.dir, exist_ok=True)
            shutil.rmtree(os.path.join(node.dir, "kafka-logs"), ignore_errors=True)
            node.sasl_port, node.plain_port, node.controller_port = next(ports), next(ports), next(ports)
        cluster_id = new_cluster_id()
        formats = []
        for node in self.nodes:  # every node's properties name every voter: all written first
            with open(node.properties, "w") as f:
                f.write(self._server_properties(node))
        for node in self.nodes:
            # One node: a quorum that it bootstraps alone. More: the static quorum of the properties.
            standalone = ["--standalone"] if len(self.nodes) == 1 else []
            out = open(os.path.join(node.dir, "storage-format.out"), "w")
            formats.append((out, self._java(node, classpath, "kafka.tools.StorageTool", "format", *standalone,
                                            "--cluster-id=" + cluster_id, "-c", node.properties,
                                            stdout=out, stderr=subprocess.STDOUT)))
        for out, fmt in formats:
            with out:
                if fmt.wait() != 0:
                    raise RuntimeError("kafka-storage format failed: see %s" % out.name)
        for node in self.nodes:  # a node of a cluster is ready only once a quorum runs
            self._spawn(node, classpath)
        for node in self.nodes:
            if not self._wait_ready(node, deadline):
                self._stop_nodes(self.nodes)
                return False
        return True

    def restart(self, timeout_s=60):
        """The nodes that are down (killed) start again; when none is, a rolling restart: each node's
        clean shutdown, then Kafka again on the same ports and log directories (what was acknowledged
        stays). Clients see their connections close, then reconnect and authenticate afresh."""
        down = [n for n in self.nodes if not n.running()]
        for node in down or self.nodes:
            was_running = node.running()
            self._stop_nodes([node])
            if was_running:
                self._event("broker_stopped", **self._cluster_fields(node))
            started = time.monotonic()
            self._spawn(node, prepare())
            if not self._wait_ready(node, started + timeout_s):
                raise RuntimeError("the Kafka broker did not start again; see %s:\n%s"
                                   % (node.log_path, self.log_tail(node=node)))
            progress("broker restarted on 127.0.0.1:%d in %.1f s" % (node.sasl_port, time.monotonic() - started))
            self._event("broker_restarted", port=node.sasl_port, startup_ms=int((time.monotonic() - started) * 1000),
                        **self._cluster_fields(node))

    def _spawn(self, node, classpath):
        node.log_offset = os.path.getsize(node.log_path) if os.path.exists(node.log_path) else 0
        node.stdout = open(os.path.join(node.dir, "broker.stdout"), "a")
        node.proc = self._java(node, classpath, "kafka.Kafka", node.properties, stdout=node.stdout,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._write_nodes_file()

    def _wait_ready(self, node, deadline):
        while time.monotonic() < deadline:
            if node.proc.poll() is not None:
                self._stop_nodes([node])
                return False
            if ("Kafka Server started" in self.log_text(node)[node.log_offset:]
                    and self._answers_api_versions(node.sasl_port)):
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Kafka broker was not ready in time; see %s:\n%s"
                           % (node.log_path, self.log_tail(node=node)))

    def _cluster_fields(self, node=None):
        """What the events of a cluster add: the node, and every node's SASL port."""
        if len(self.nodes) == 1:
            return {}
        fields = {"bootstrap": self.bootstrap}
        if node is not None:
            fields["node"] = node.id
        return fields

    def _write_nodes_file(self):
        write_atomically(os.path.join(self.work_dir, "nodes.json"), json.dumps([
            {"id": n.id, "pid": n.proc.pid if n.proc else None, "sasl_port": n.sasl_port,
             "plain_port": n.plain_port, "controller_port": n.controller_port, "log": n.log_path}
            for n in self.nodes], indent=1) + "\n")

    def _answers_api_versions(self, port):
        """An ApiVersions v0 round trip on the SASL listener: Kafka answers it before authentication,
        only once the listener processes requests."""
        request = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
        try:
            with contextlib.ExitStack() as stack:
                sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=2))
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
        """SIGTERM (Kafka's clean shutdown) to every node at once, then SIGKILL after timeout_s."""
        if any(n.proc for n in self.nodes):
            self._stop_nodes(self.nodes, timeout_s)
            self._event("broker_stopped")

    def _stop_nodes(self, nodes, timeout_s=30):
        nodes = [n for n in nodes if n.proc is not None]
        for node in nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for node in nodes:
            try:
                node.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                progress("node %d did not stop in %d s: killing it" % (node.id, timeout_s))
                node.proc.kill()
                node.proc.wait()
            node.proc = None
            node.stdout.close()

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

    def log_text(self, node=None):
        try:
            with open((node or self.nodes[0]).log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=40, node=None):
        return "\n".join(self.log_text(node).splitlines()[-lines:])

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


def _string(data, at):
    (n,) = struct.unpack_from(">h", data, at)
    return data[at + 2:at + 2 + max(n, 0)].decode(), at + 2 + max(n, 0)


def partition_leaders(port, topic, timeout_s=5):
    """{partition: (leader id, [in-sync replica ids])} of `topic` as the node listening on
    127.0.0.1:port (its PLAINTEXT listener) knows them: a Metadata v4 round trip. {} when the node
    does not know the topic yet; leader -1 while a partition has none."""
    name = topic.encode()
    request = (struct.pack(">hhih", 3, 4, 7, 8) + b"describe" + struct.pack(">ih", 1, len(name)) + name
               + b"\0")  # allow_auto_topic_creation false
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _read_exactly(sock, 4))
        data = _read_exactly(sock, size)
    at = 8  # correlation id, throttle time
    (brokers,) = struct.unpack_from(">i", data, at)
    at += 4
    for _ in range(brokers):
        _, at = _string(data, at + 4)  # node id, host
        _, at = _string(data, at + 4)  # port, rack
    _, at = _string(data, at)  # cluster id
    (topics,) = struct.unpack_from(">i", data, at + 4)  # after the controller id
    at += 8
    leaders = {}
    for _ in range(topics):
        (error,) = struct.unpack_from(">h", data, at)
        _, at = _string(data, at + 2)
        (partitions,) = struct.unpack_from(">i", data, at + 1)  # after is_internal
        at += 5
        for _ in range(partitions):
            _, index, leader, replicas = struct.unpack_from(">hiii", data, at)
            at += 14 + 4 * replicas
            (isr,) = struct.unpack_from(">i", data, at)
            leaders[index] = (leader, list(struct.unpack_from(">%di" % isr, data, at + 4)))
            at += 4 + 4 * isr
        if error:
            return {}
    return leaders


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
    run = sub.add_parser("run", help="run one broker (or --nodes) in the foreground until SIGTERM/SIGINT")
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
    run.add_argument("--nodes", type=int, default=1,
                     help="KRaft nodes, each broker and controller (default 1); SIGHUP starts again those "
                     "that are down, or restarts each in turn when none is")
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
    if args.nodes < 1:
        p.error("--nodes must be >= 1")

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
                         initial_rebalance_delay_ms=args.initial_rebalance_delay_ms, port_file=args.port_file,
                         nodes=args.nodes)
    try:
        broker.start()
        print("kafka-broker listening on %s (%s, region %s), started in %.1f s"
              % (broker.bootstrap, broker.listener, args.region, broker.startup_s), flush=True)
        reported = set()
        while not done.wait(0.1):
            if restart.is_set():
                restart.clear()
                broker.restart()
                reported.clear()
            down = [n for n in broker.nodes if not n.running()]
            if len(down) == len(broker.nodes):
                progress("the broker exited on its own:\n" + broker.log_tail(node=down[0]))
                return 1
            for node in down:  # a cluster runs on without it (killed by a test?) until SIGHUP
                if node.id not in reported:
                    reported.add(node.id)
                    progress("node %d is down (exit status %s)" % (node.id, node.proc.returncode))
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
