#!/usr/bin/python3
"""End-to-end scenarios: real librdkafka producers and consumers (mskiam's examples) against a
broker that authenticates as MSK does, in compressed time: credentials live 20 s (40 s in one
scenario), broker sessions 4 s. The broker is either
- the MSK-IAM broker emulator (tests/emulator, `--broker emulator`, the default): every scenario
  asserts from its JSON event log (authentications, principals, refusals, disconnections, group
  rebalances); or
- a real Apache Kafka broker with the MSK-like validator (tests/kafka, `--broker kafka`): Kafka's
  own code decides re-authentication and refuses a principal change; the scenarios assert from
  Kafka's socket-server metrics, the validator's event log and Kafka's log.
and from the clients' output (messages produced = acknowledged = consumed, errors classified,
provider events). Each scenario prints its outcome table: produced, acknowledged, consumed, lost,
duplicated.

Two kinds of clients:
- the examples compiled with tests/e2e/e2e_source.hpp as their credential source (mskiam-e2e-*): a
  simulated STS that mints credentials, registers them with the emulator and can fail on demand;
  the session name is the example's --session-name, or a new aws-sdk-js-session-<ms> per fetch;
- the plain examples (mskiam-producer, mskiam-consumer; DefaultChain and AssumeRole) with the AWS
  fakes of tests/fakes: EKS Pod Identity (a new session name per fetch) and a signing STS.
Scenarios that need KIP-368 re-authentication assert it on librdkafka >= 2.2 and assert the
documented 2.0.2 behaviour instead (disconnect at session expiry, reconnect, no loss).

    scenarios.py --producer P --consumer C --c_producer CP [--example-producer EP
                 --example-consumer EC [--examples-use-default-chain]] [--work-dir DIR]
                 [--broker emulator|kafka] [--outcomes FILE.jsonl] [--only NAME ...]

Exit status 0 when every scenario run passed, 77 when all were skipped (CTest SKIP_RETURN_CODE),
1 otherwise.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EMULATOR = os.path.join(ROOT, "tests", "emulator", "msk_emulator.py")
KAFKA = os.path.join(ROOT, "tests", "kafka", "broker.py")
FAKES = os.path.join(ROOT, "tests", "fakes", "aws_fakes.py")
PYTHON = "/usr/bin/python3"  # Debian's, with python3-botocore
REGION = "us-east-1"
SESSION_LIFETIME_MS = 4000
CREDENTIAL_LIFETIME_S = 20
ROLE_ARN = "arn:aws:iam::123456789012:role/MskRole"
PRINCIPAL_PREFIX = "arn:aws:sts::123456789012:assumed-role/MskRole/"

PROGRAMS = {}  # producer, consumer, c_producer, example_producer, example_consumer
WORK_DIR = None
RDKAFKA_VERSION = None  # (major, minor, patch)
CHAIN_EXAMPLES = False  # the plain examples use DefaultChain / AssumeRole
BROKER = "emulator"  # or "kafka"
OUTCOMES = None  # a JSON-lines file that collects each scenario's outcome table
PRINCIPAL_CHANGE_TEXT = "Cannot change principals during re-authentication"


def log(*parts):
    print(*parts, flush=True)


def version_text(v):
    return ".".join(map(str, v))


def detect_rdkafka_version():
    out = subprocess.run([PROGRAMS["producer"], "--version"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    m = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise RuntimeError("cannot read the librdkafka version from %r" % out)
    return tuple(int(x) for x in m.groups())


def reauth_supported():
    return RDKAFKA_VERSION >= (2, 2, 0)


class Process:
    """A child whose stdout and stderr go to files in the scenario's directory."""

    def __init__(self, name, argv, directory, env=None):
        self.name = name
        self.stdout_path = os.path.join(directory, name + ".out")
        self.stderr_path = os.path.join(directory, name + ".err")
        self._out = open(self.stdout_path, "w")
        self._err = open(self.stderr_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=self._err, env=full_env,
                                     cwd=directory)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._out.flush()
            self._err.flush()

    def terminate(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        self._err.close()

    def stdout(self):
        with open(self.stdout_path) as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def summary(self):
        for line in reversed(self.stdout().splitlines()):
            if line.startswith("summary "):
                return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}
        return None

    def values(self, verb):
        """Message values from `delivered ... value [latency_us=...]` / `consumed ... value` lines."""
        return [line.split()[2] for line in self.stdout().splitlines()
                if line.startswith(verb + " ") and len(line.split()) >= 3]


def read_jsonl(path, kind=None):
    """The records of a JSON-lines file (a line being written is skipped), of one `event` kind."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if kind is None or e.get("event") == kind:
                out.append(e)
    return out


class Emulator:
    """The MSK-IAM broker emulator of tests/emulator: everything it saw is in its event log."""

    start_timeout_s = 15

    def __init__(self, scenario, tls_args):
        self.events_path = scenario.events_path
        port_file = os.path.join(scenario.dir, "port")
        self.process = scenario.spawn("emulator", [
            PYTHON, EMULATOR, "--port", "0", "--port-file", port_file,
            "--registry", scenario.registry, "--events", self.events_path, "--region", REGION,
            "--session-lifetime-ms", str(SESSION_LIFETIME_MS)] + tls_args)
        self.bootstrap = "127.0.0.1:" + wait_for_port(scenario, self.process, port_file,
                                                      self.start_timeout_s)

    def events(self, kind=None):
        return read_jsonl(self.events_path, kind)

    def tls_everywhere(self):
        return all(e["tls"] for e in self.events("connection_opened"))

    def summary(self):
        auths = self.events("authenticated")
        closes = collections.Counter(e["reason"] for e in self.events("connection_closed"))
        by_client = collections.defaultdict(list)
        for a in auths:
            by_client[a["client_id"]].append(a)
        return {
            "authentications": len(auths),
            "reauthentications": sum(1 for a in auths if a["reauth"]),
            "principals": sorted({a["principal"] for a in auths}),
            "access_keys": len({a["access_key_id"] for a in auths}),
            "auth_failed": [e["reason"] for e in self.events("auth_failed")],
            "principal_change_refusals": len(self.events("reauth_refused_principal_change")),
            "session_expired_disconnects": len(self.events("session_expired_disconnect")),
            "connections": len(self.events("connection_opened")),
            "closes": dict(closes),
            "rebalances": len(self.events("group_rebalance")),
            "reauth_protocol": sorted({a["api_version"] for a in auths}) == [1],
            "most_reauthentications_on_one_connection": max(collections.Counter(
                a["conn"] for a in auths if a["reauth"]).values(), default=0),
            "principals_by_client": {c: sorted({a["principal"] for a in v})
                                     for c, v in by_client.items()},
            "access_keys_by_client": {c: len({a["access_key_id"] for a in v})
                                      for c, v in by_client.items()},
        }

    def retired_bootstrap_connections(self):
        """Connections a client closed before their first session ended, having authenticated once
        and neither produced nor fetched. librdkafka >= 2.10 knows brokers by id only: it retires
        the bootstrap connection as soon as Metadata names broker 1 and opens another one to it
        (2.8.0 reused the bootstrap connection). A reconnection forced by a session cannot qualify:
        it comes after a session has ended."""
        opened = {e["conn"]: e["ts_ms"] for e in self.events("connection_opened")}
        auths = collections.defaultdict(list)
        for e in self.events("authenticated"):
            auths[e["conn"]].append(e)
        busy = {e["conn"] for e in self.events() if e.get("event") in ("produce", "fetch")}

        def retired(close):
            conn = close["conn"]
            if close["reason"] != "client closed" or conn in busy or len(auths[conn]) != 1:
                return False
            first = auths[conn][0]
            return (not first["reauth"] and
                    close["ts_ms"] - opened[conn] < first.get("session_lifetime_ms", 0))
        return sum(1 for e in self.events("connection_closed") if retired(e))

    def unexpected_closes(self, allowed, stopping_ms):
        """Connections closed for reasons not in `allowed`. A socket error while the consumers
        shut down (a fetch answer meeting a closed socket) is not a finding."""
        closes = collections.Counter(
            e["reason"] for e in self.events("connection_closed")
            if not (e["reason"].startswith("socket error") and e["ts_ms"] >= stopping_ms))
        return {r: n for r, n in closes.items() if r not in allowed}

    def group_settled(self, members, consumers):
        return any(e.get("event") == "group_join" and e.get("members") == members
                   for e in self.events())

    def rebalance_mark(self, consumers):
        return time.time() * 1000

    def rebalances_since(self, mark, consumers):
        return [e for e in self.events("group_rebalance") if e["ts_ms"] > mark]


class KafkaBroker:
    """A real Apache Kafka broker (tests/kafka/broker.py) with the MSK-like validator. Kafka's own
    code authenticates, re-authenticates and refuses principal changes; what it decided is read
    from its socket-server metrics (the validator's snapshot of them), the validator's event log
    (every token accepted or refused, with the principal) and Kafka's own log."""

    start_timeout_s = 60

    def __init__(self, scenario, tls_args):
        self.dir = os.path.join(scenario.dir, "kafka")
        self.events_path = scenario.events_path
        self.metrics_path = os.path.join(scenario.dir, "metrics.json")
        port_file = os.path.join(scenario.dir, "port")
        self.process = scenario.spawn("kafka", [
            PYTHON, KAFKA, "run", "--work-dir", self.dir, "--port-file", port_file,
            "--registry", scenario.registry, "--events", self.events_path,
            "--metrics", self.metrics_path, "--region", REGION,
            "--session-lifetime-ms", str(SESSION_LIFETIME_MS)] + tls_args
            + list(getattr(scenario, "kafka_args", ())))  # the chaos suite's --nodes 3
        self.bootstrap = "127.0.0.1:" + wait_for_port(scenario, self.process, port_file,
                                                      self.start_timeout_s)

    def events(self, kind=None):
        return read_jsonl(self.events_path, kind)

    def metrics(self):
        """Kafka's socket-server metrics of the clients' listener, summed over its processors."""
        try:
            with open(self.metrics_path) as f:
                snapshot = json.load(f)
        except (OSError, ValueError):
            return {}
        return dict(snapshot.get("socket_server", {}), listener=snapshot.get("listener", ""))

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "broker.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def tls_everywhere(self):
        # The broker has only the SASL_SSL listener for clients when TLS is asked for.
        return self.metrics().get("listener", "").upper() == "SASL_SSL"

    def summary(self):
        m = self.metrics()
        accepted = self.events("token_accepted")
        refused = self.events("token_refused")
        change_refusals = [line for line in self.log_text().splitlines()
                           if PRINCIPAL_CHANGE_TEXT in line]
        return {
            "authentications": int(m.get("successful-authentication-total", 0)) +
                               int(m.get("successful-reauthentication-total", 0)),
            "reauthentications": int(m.get("successful-reauthentication-total", 0)),
            "principals": sorted({e["principal"] for e in accepted}),
            "access_keys": len({e["access_key_id"] for e in accepted}),
            "auth_failed": [e["reason"] for e in refused] + change_refusals,
            "principal_change_refusals": len(change_refusals),
            "failed_authentications": int(m.get("failed-authentication-total", 0)),
            "failed_reauthentications": int(m.get("failed-reauthentication-total", 0)),
            "session_expired_disconnects": int(m.get("expired-connections-killed-count", 0)),
            "connections": int(m.get("connection-creation-total", 0)),
            "closed_connections": int(m.get("connection-close-total", 0)),
            "rebalances": None,  # read from the consumers instead: rebalances_between()
            "reauth_protocol": int(m.get("successful-reauthentication-total", 0)) > 0,
        }

    def retired_bootstrap_connections(self):
        """Kafka does not say which connection closed, or why. librdkafka >= 2.10 retires one
        bootstrap connection per client (the emulator sees each one); here the allowance is one per
        client of the scenario (two), never more than Kafka saw closed."""
        if RDKAFKA_VERSION < (2, 10, 0):
            return 0
        return min(self.summary()["closed_connections"], 2)

    def unexpected_closes(self, allowed, stopping_ms):
        """Kafka names no close reason; what it counts is authentication failures. Every failed
        first authentication, and every failed re-authentication that was not a principal change
        allowed here, is a finding."""
        s = self.summary()
        unexpected = {}
        if s["failed_authentications"]:
            unexpected["failed authentication"] = s["failed_authentications"]
        expected_reauth_failures = (s["principal_change_refusals"]
                                    if "principal change on re-authentication" in allowed else 0)
        if s["failed_reauthentications"] > expected_reauth_failures:
            unexpected["failed re-authentication"] = s["failed_reauthentications"]
        return unexpected

    @staticmethod
    def assignments(consumer):
        """The consumer example's rebalance lines: `consumer: assigned e2e/0 e2e/2` or `revoked`."""
        return [line.split()[1:] for line in consumer.stderr().splitlines()
                if line.startswith("consumer: assigned") or line.startswith("consumer: revoked")]

    def group_settled(self, members, consumers):
        """Every member holds a share of the partitions: each one's last rebalance line is an
        assignment, and the shares are disjoint."""
        shares = []
        for c in consumers:
            lines = self.assignments(c)
            if not lines or lines[-1][0] != "assigned" or len(lines[-1]) < 2:
                return False
            shares.append(set(lines[-1][1:]))
        return len(shares) == members and sum(map(len, shares)) == len(set().union(*shares))

    def rebalance_mark(self, consumers):
        return {c.name: len(self.assignments(c)) for c in consumers}

    def rebalances_since(self, mark, consumers):
        """The rebalance lines each consumer printed since `mark`."""
        return [(c.name, line) for c in consumers for line in self.assignments(c)[mark[c.name]:]]


def wait_for_port(scenario, process, port_file, timeout):
    deadline = time.time() + timeout
    while not os.path.exists(port_file):
        if time.time() > deadline or process.proc.poll() is not None:
            scenario.fail("the %s broker did not start within %d s: %s" % (
                BROKER, timeout, process.stderr()[-3000:]))
        time.sleep(0.05)
    with open(port_file) as f:
        return f.read().strip()



class Scenario(unittest.TestCase):
    """One emulator per scenario, in WORK_DIR/<scenario>."""

    credential_lifetime_s = CREDENTIAL_LIFETIME_S

    def setUp(self):
        self.dir = os.path.join(WORK_DIR, self._testMethodName)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.registry = os.path.join(self.dir, "registry.json")
        self.events_path = os.path.join(self.dir, "events.jsonl")
        with open(self.registry, "w") as f:
            f.write("{}\n")
        self.processes = []
        self.started = time.time()
        tls_args = []
        self.security_protocol = "SASL_PLAINTEXT"
        if getattr(getattr(self, self._testMethodName), "tls", False):
            tls_args = self.make_certificate()
            self.security_protocol = "SASL_SSL"
        self.broker = (KafkaBroker if BROKER == "kafka" else Emulator)(self, tls_args)
        self.bootstrap = self.broker.bootstrap

    def start_fakes(self, lifetime_s, extra_args=()):
        """The AWS fakes (tests/fakes), registering what they issue in the emulator's registry."""
        port_file = os.path.join(self.dir, "fakes.port")
        self.fakes = self.spawn("fakes", [
            PYTHON, FAKES, "--port", "0", "--port-file", port_file, "--registry", self.registry,
            "--log", os.path.join(self.dir, "fakes.jsonl"), "--credential-lifetime-s",
            str(lifetime_s)] + list(extra_args))
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if time.time() > deadline or self.fakes.proc.poll() is not None:
                self.fail("the AWS fakes did not start: " + self.fakes.stderr())
            time.sleep(0.05)
        with open(port_file) as f:
            self.fakes_url = "http://127.0.0.1:" + f.read().strip()

    def fakes_log(self):
        path = os.path.join(self.dir, "fakes.jsonl")
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def chain_env(self):
        """Only the container endpoint answers the default chain: no variables, files or IMDS."""
        env = {k: "" for k in os.environ if k.startswith("AWS_")}
        env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.fakes_url + "/pod-identity",
                    "AWS_CONFIG_FILE": os.path.join(self.dir, "no-config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "no-credentials"),
                    "AWS_EC2_METADATA_DISABLED": "true"})
        return env

    def example_clients(self, role_arn=None, producer_session=None, consumer_session=None,
                        count=26):
        """The plain examples (default chain) against the emulator: consumer, then producer."""
        base = ["--bootstrap", self.bootstrap, "--region", REGION, "--topic", "e2e",
                "--security-protocol", "SASL_PLAINTEXT", "--events"]
        if role_arn:
            base += ["--role-arn", role_arn, "--sts-endpoint", self.fakes_url]
        env = self.chain_env()
        consumer = self.spawn("consumer", [PROGRAMS["example_consumer"]] + base + (
            ["--session-name", consumer_session] if consumer_session else []) + [
            "--group", "e2e-group", "--count", "0"], env)
        producer = self.spawn("producer", [PROGRAMS["example_producer"]] + base + (
            ["--session-name", producer_session] if producer_session else []) + [
            "--count", str(count), "--interval-ms", "1000", "--message-prefix", "producer"], env)
        return producer, consumer

    def make_certificate(self):
        """A self-signed certificate for 127.0.0.1 (librdkafka verifies the host name)."""
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        self.ca = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", self.ca, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        return ["--tls-cert", self.ca, "--tls-key", key]

    def tearDown(self):
        for p in reversed(self.processes):
            if p is not self.broker.process:
                p.terminate()
        self.broker.process.terminate(timeout=30)
        for p in self.processes:
            p.close()
        log("  [%s: %.1f s, files in %s]" % (self._testMethodName, time.time() - self.started,
                                             self.dir))

    # --- clients ----------------------------------------------------------------------------------

    def spawn(self, name, argv, env=None):
        p = Process(name, argv, self.dir, env)
        self.processes.append(p)
        return p

    def client_env(self, extra=None):
        env = {"MSKIAM_E2E_REGISTRY": self.registry,
               "MSKIAM_E2E_CREDENTIAL_LIFETIME_S": str(self.credential_lifetime_s)}
        env.update(extra or {})
        return env

    def common_args(self, session_name=None, principal_change=None):
        args = ["--bootstrap", self.bootstrap, "--region", REGION, "--topic", "e2e",
                "--security-protocol", self.security_protocol, "--events", "--role-arn", ROLE_ARN]
        if self.security_protocol == "SASL_SSL":
            args += ["--ca-location", self.ca]
        if session_name:
            args += ["--session-name", session_name]
        if principal_change:
            args += ["--principal-change", principal_change]
        return args

    def producer(self, name="producer", program="producer", count=10, interval_ms=1000,
                 env=None, **kw):
        return self.spawn(name, [PROGRAMS[program]] + self.common_args(**kw) + [
            "--count", str(count), "--interval-ms", str(interval_ms), "--message-prefix", name],
            self.client_env(env))

    def consumer(self, name="consumer", group="e2e-group", env=None, program="consumer", **kw):
        return self.spawn(name, [PROGRAMS[program]] + self.common_args(**kw) + [
            "--group", group, "--count", "0"], self.client_env(env))

    def wait_producer(self, producer, timeout=90):
        try:
            status = producer.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail("%s did not finish within %d s" % (producer.name, timeout))
        summary = producer.summary()
        self.assertIsNotNone(summary, "%s printed no summary:\n%s" % (producer.name,
                                                                    producer.stderr()[-3000:]))
        return status, summary

    def drain(self, consumers, expected, timeout=30):
        """Waits until the consumers together consumed every expected value, then stops them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = set()
            for c in consumers:
                got.update(c.values("consumed"))
            if expected <= got:
                break
            time.sleep(0.2)
        self.stopping_ms = time.time() * 1000
        for c in consumers:
            self.assertEqual(c.terminate(), 0,
                             "%s exited badly:\n%s" % (c.name, c.stderr()[-3000:]))
        return [c.values("consumed") for c in consumers]

    def auth_summary(self):
        s = self.broker.summary()
        log("  broker (%s): %d authentications (%d re-authentications), %d connections, "
            "%d principal(s), %d access keys, %d principal-change refusals, %d session-expiry "
            "disconnects, %d auth failures, %s group rebalances" % (
                BROKER, s["authentications"], s["reauthentications"], s["connections"],
                len(s["principals"]), s["access_keys"], s["principal_change_refusals"],
                s["session_expired_disconnects"], len(s["auth_failed"]), s["rebalances"]))
        for p in s["principals"]:
            log("    principal " + p)
        self.last_summary = s
        return s

    # --- assertions shared by the scenarios -------------------------------------------------------

    def assert_no_loss(self, producers, consumed_lists, summaries, pinned=False):
        """Every acknowledged message consumed (lost = 0, always); with one principal throughout
        and one consumer (`pinned`), none consumed twice either (duplicated = 0). Prints the
        scenario's outcome table and adds it to --outcomes."""
        delivered = [v for p in producers for v in p.values("delivered")]
        consumed = [v for values in consumed_lists for v in values]
        outcome = {
            "produced": sum(s["produced"] for s in summaries),
            "acknowledged": sum(s["acknowledged"] for s in summaries),
            "consumed": len(consumed),
            "lost": len(set(delivered) - set(consumed)),
            "duplicated": len(consumed) - len(set(consumed)),
        }
        log("  outcome  " + "  ".join("%s %d" % kv for kv in outcome.items()))
        self.record_outcome(outcome)
        for p, s in zip(producers, summaries):
            self.assertEqual(s["failed"], 0, p.name)
            self.assertEqual(s["unacknowledged"], 0, p.name)
            self.assertEqual(s["acknowledged"], s["produced"], p.name)
            self.assertEqual(len(set(p.values("delivered"))), s["produced"], p.name)
        self.assertEqual(outcome["lost"], 0, "produced and acknowledged but never consumed: %s"
                         % sorted(set(delivered) - set(consumed)))
        if pinned:
            self.assertEqual(outcome["duplicated"], 0, "messages consumed twice")

    def record_outcome(self, outcome):
        """One JSON line per scenario: the messages, and what the broker decided, as classes
        that do not depend on timing (the emulator and Kafka must agree on them)."""
        if not OUTCOMES:
            return
        s = getattr(self, "last_summary", None) or self.broker.summary()
        record = dict(outcome, broker=BROKER, scenario=self._testMethodName,
                      librdkafka=version_text(RDKAFKA_VERSION),
                      several_principals=len(s["principals"]) > 1,
                      reauthenticated=s["reauthentications"] > 0,
                      principal_change_refused=s["principal_change_refusals"] > 0,
                      other_auth_failures=len([r for r in s["auth_failed"]
                                               if PRINCIPAL_CHANGE_TEXT not in r]))
        with open(OUTCOMES, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    def assert_session_behaviour(self, s):
        """Re-authentication on >= 2.2 (SaslAuthenticate v1, same connection); on 2.0.2 none
        (v0), and the broker disconnects expired sessions instead."""
        if reauth_supported():
            self.assertTrue(s["reauth_protocol"], "SaslAuthenticate v1 (KIP-368) was not used")
            self.assertGreater(s["reauthentications"], 0)
        else:
            self.assertFalse(s["reauth_protocol"])
            self.assertEqual(s["reauthentications"], 0)
            self.assertGreater(s["session_expired_disconnects"], 0)

    def assert_reauthenticated_on_one_connection(self, early, late, open_s, times):
        """At least `times` re-authentications on one connection. The emulator counts them per
        connection. Kafka does not name the connection in what it counts, but it closes any
        connection whose session ends without a re-authentication. So if no connection was opened
        between `early` (a snapshot taken one session after the clients started) and `late`
        (`open_s` seconds later), none was killed at expiry, and fewer were closed than opened, one
        connection lived through every session in between, re-authenticating each time."""
        if BROKER == "emulator":
            self.assertGreaterEqual(late["most_reauthentications_on_one_connection"], times)
            return
        sessions = int(open_s * 1000 // SESSION_LIFETIME_MS)
        self.assertGreaterEqual(sessions, times, "the run was too short to show it")
        self.assertEqual(late["connections"], early["connections"],
                         "connections were opened while the clients ran")
        self.assertLess(late["closed_connections"], late["connections"], "no connection lived")
        self.assertEqual(late["session_expired_disconnects"], 0)
        self.assertGreaterEqual(late["reauthentications"] - early["reauthentications"], times)
        log("  %d of %d connections open for %.0f s, sessions of %d s, none killed at expiry: at "
            "least %d re-authentications on each; Kafka counted %d in all" % (
                late["connections"] - late["closed_connections"], late["connections"], open_s,
                SESSION_LIFETIME_MS // 1000, sessions, late["reauthentications"]))

    def assert_only_expected_closes(self, s, extra=()):
        """Connections end because the client closed them, or as `extra` and the librdkafka
        version say."""
        allowed = {"client closed"} | set(extra)
        if not reauth_supported():
            allowed.add("session expired")
        unexpected = self.broker.unexpected_closes(allowed, getattr(self, "stopping_ms",
                                                                    float("inf")))
        self.assertFalse(unexpected, "connections closed for other reasons: %s" % unexpected)

class Scenarios(Scenario):

    def test_examples_with_static_credentials(self):
        """The plain examples (default credential source, here environment variables) produce and
        consume against the emulator through several broker sessions."""
        if "example_producer" not in PROGRAMS:
            self.skipTest("the examples are not built (MSKIAM_BUILD_EXAMPLES=OFF)")
        key, secret = "AKIAE2ESTATIC0000001", "e2e-static-secret-not-real"
        principal = "arn:aws:iam::123456789012:user/e2e-static"
        with open(self.registry, "w") as f:
            json.dump({key: {"secret_access_key": secret, "principal": principal,
                             "expiration_ms": None}}, f)
        env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        args = ["--bootstrap", self.bootstrap, "--region", REGION, "--topic", "e2e",
                "--security-protocol", "SASL_PLAINTEXT", "--events"]
        consumer = self.spawn("consumer", [PROGRAMS["example_consumer"]] + args + ["--count", "0"],
                              env)
        producer = self.spawn("producer", [PROGRAMS["example_producer"]] + args + [
            "--count", "9", "--interval-ms", "1000", "--message-prefix", "static"], env)
        status, summary = self.wait_producer(producer)
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        self.assertEqual(s["principals"], [principal])
        self.assertEqual(s["auth_failed"], [])
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s)
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    def test_sasl_ssl(self):
        """SASL_SSL, the examples' default and MSK's: TLS to the emulator, certificate verified
        against --ca-location, IAM authentication inside; C API producer and C++ consumer."""
        consumer = self.consumer(session_name="billing")
        producer = self.producer(program="c_producer", count=6, interval_ms=500,
                                 session_name="orders-api")
        status, summary = self.wait_producer(producer)
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        self.assertTrue(self.broker.tls_everywhere())
        self.assertEqual(sorted(s["principals"]),
                         [PRINCIPAL_PREFIX + "billing", PRINCIPAL_PREFIX + "orders-api"])
        self.assertEqual(s["auth_failed"], [])
        self.assert_only_expected_closes(s)
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    test_sasl_ssl.tls = True

    def require_chain_examples(self):
        if "example_producer" not in PROGRAMS or not CHAIN_EXAMPLES:
            self.skipTest("the examples are not built with MSKIAM_EXAMPLE_DEFAULT_CHAIN=ON")

    def test_pod_identity_incident(self):
        """The original incident with the real sources: the plain examples' default chain reads
        the EKS Pod Identity agent (the container fake in pod-identity mode), whose every answer
        carries a new session name. librdkafka >= 2.2: refused re-authentication, classified,
        reconnection, nothing lost."""
        self.require_chain_examples()
        self.start_fakes(CREDENTIAL_LIFETIME_S)
        producer, consumer = self.example_clients()
        status, summary = self.wait_producer(producer)
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        self.assertGreaterEqual(len(s["principals"]), 4, "two clients, each rotated once")
        for p in s["principals"]:
            self.assertRegex(p, r":assumed-role/[^/]+/eks-cluster-pod-[0-9a-f-]+$")
        # The container endpoint answered (the fake's log); Pod Identity documents carry no role
        # ARN, so mskiam cannot see the principal change coming: only the broker can.
        self.assertTrue(any(e.get("action") == "pod-identity" and e.get("status") == 200
                            for e in self.fakes_log()))
        # Events name the member of the default chain that answered.
        self.assertIn("credentials_fetched source=container", producer.stderr())
        if reauth_supported():
            self.assertGreaterEqual(s["principal_change_refusals"], 1)
            self.assertGreaterEqual(summary["principal_change_recoveries"], 1)
            self.assertEqual(summary["auth_errors"], 0)
        else:
            self.assertEqual(s["principal_change_refusals"], 0)
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s, ["principal change on re-authentication"])
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary])

    def test_pod_identity_fix_assume_role(self):
        """The fix with the real sources: AssumeRole<DefaultChain> (Pod Identity credentials as
        the base, signed AssumeRole calls to the STS fake) with a fixed session name per client:
        one principal per client through the rotations, no refusal, at least 10
        re-authentications on one connection, nothing lost."""
        self.require_chain_examples()
        self.start_fakes(CREDENTIAL_LIFETIME_S)
        producer, consumer = self.example_clients(ROLE_ARN, "orders-api", "billing", count=50)
        time.sleep(SESSION_LIFETIME_MS / 1000)
        early, early_t = self.broker.summary(), time.time()
        status, summary = self.wait_producer(producer)
        late, open_s = self.broker.summary(), time.time() - early_t
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        if reauth_supported():
            self.assert_reauthenticated_on_one_connection(early, late, open_s, 10)
        self.assertEqual(sorted(s["principals"]),
                         [PRINCIPAL_PREFIX + "billing", PRINCIPAL_PREFIX + "orders-api"])
        self.assertGreaterEqual(s["access_keys"], 4, "both clients rotate")
        self.assertEqual(s["principal_change_refusals"], 0)
        self.assertEqual(s["auth_failed"], [])
        self.assertEqual(summary["principal_changes"], 0)
        assume = [e for e in self.fakes_log() if e.get("action") == "AssumeRole"]
        self.assertGreaterEqual(len(assume), 4)
        self.assertEqual({e.get("signature") for e in assume}, {"verified"})
        self.assertEqual({e.get("role_session_name") for e in assume}, {"orders-api", "billing"})
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s)
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    def run_rotation(self, session_name, principal_change=None, producer_program="producer",
                     count=26):
        """A producer and a consumer through one credential rotation (credentials: 20 s)."""
        kw = {"session_name": session_name, "principal_change": principal_change}
        consumer = self.consumer(**kw)
        producer = self.producer(program=producer_program, count=count, interval_ms=1000, **kw)
        status, summary = self.wait_producer(producer)
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        log("  producer: " + " ".join("%s=%s" % kv for kv in summary.items()))
        return producer, consumer, status, summary, consumed, s

    def check_incident(self, producer, consumer, status, summary, consumed, s):
        # Credentials were refreshed, each time for another principal, and the provider said so.
        self.assertGreaterEqual(len(s["principals"]), 2, s["principals"])
        for p in s["principals"]:
            self.assertRegex(p, "^" + re.escape(PRINCIPAL_PREFIX) + r"aws-sdk-js-session-\d+$")
        self.assertGreaterEqual(summary["principal_changes"], 1)
        self.assertIn("mskiam: principal_changed", producer.stderr())
        if reauth_supported():
            # The incident: the broker refuses the re-authentication...
            self.assertGreaterEqual(s["principal_change_refusals"], 1)
            if "closes" in s:  # the emulator names why it closed; Kafka counts the refusal
                self.assertGreaterEqual(
                    s["closes"].get("principal change on re-authentication", 0), 1)
            # ...the error reaches error_cb, is classified as an expected recovery...
            self.assertGreaterEqual(summary["principal_change_recoveries"], 1)
            self.assertIn("expected recovery", producer.stderr())
            self.assertEqual(summary["auth_errors"], 0, "unclassified authentication errors")
        else:
            # 2.0.2 never re-authenticates: no refusal, a disconnect per session instead, and the
            # new principal on the next connection.
            self.assertEqual(s["principal_change_refusals"], 0)
            self.assertEqual(summary["principal_change_recoveries"], 0)
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s, ["principal change on re-authentication"])
        self.assertEqual([r for r in s["auth_failed"] if "Cannot change principals" not in r], [])
        # ...and the client recovers by reconnecting: no message lost.
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary])

    def test_incident_session_name_changes(self):
        """The EKS Pod Identity / JS SDK incident: a new session name, hence a new principal, at
        every refresh. librdkafka >= 2.2: the broker refuses the re-authentication ("Cannot change
        principals"); error_cb classifies it with is_principal_change; the client reconnects with
        the new principal and loses nothing."""
        self.check_incident(*self.run_rotation(session_name=None))

    def test_c_api_producer_incident(self):
        """The incident through librdkafka's C API (rd_kafka_new + attach/start, error_cb)."""
        self.check_incident(*self.run_rotation(session_name=None, producer_program="c_producer"))

    def test_fix_pinned_session_name(self):
        """The fix: a fixed session name. Credentials rotate (several access keys) but every
        authentication carries one principal; no refusal, no reconnection beyond session expiry,
        nothing lost."""
        producer, consumer, status, summary, consumed, s = self.run_rotation(
            session_name="orders-api")
        self.assertEqual(s["principals"], [PRINCIPAL_PREFIX + "orders-api"])
        self.assertGreaterEqual(s["access_keys"], 2, "the credentials were never rotated")
        self.assertEqual(s["principal_change_refusals"], 0)
        self.assertEqual(s["auth_failed"], [])
        self.assertEqual(summary["principal_changes"], 0)
        self.assertEqual(summary["principal_change_recoveries"], 0)
        self.assertEqual(summary["auth_errors"], 0)
        self.assertGreaterEqual(summary["credential_fetches"], 2)
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s)
        if reauth_supported():
            # One connection per producer; the consumer's group coordinator adds one; librdkafka
            # >= 2.10 also opens, then retires, one bootstrap connection per client.
            retired = self.broker.retired_bootstrap_connections()
            self.assertLessEqual(retired, 2, "more than one bootstrap connection per client")
            self.assertLessEqual(s["connections"] - retired, 4,
                                 "reconnections beyond what is needed")
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    def test_principal_change_rejected(self):
        """PrincipalChange::reject: the provider refuses credentials for another principal with a
        clear error and keeps serving the old ones while they are valid; the broker never sees
        another principal."""
        # Credentials live 30 s: librdkafka asks for a new token at ~24 s (80 % of the first
        # token's life), the rejection happens then; the clients stop at ~26 s, while the first
        # credentials are still valid. (Past their end, the clients could not authenticate at all:
        # that is what `reject` means, and what the provider's error says.)
        self.credential_lifetime_s = 30
        consumer = self.consumer(principal_change="reject")
        producer = self.producer(count=13, interval_ms=2000, principal_change="reject")
        status, summary = self.wait_producer(producer)
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        log("  producer: " + " ".join("%s=%s" % kv for kv in summary.items()))
        err = producer.stderr()
        rejection = re.compile(r"refreshed credentials carry principal (\S+aws-sdk-js-session-\d+) "
                               r"instead of (\S+aws-sdk-js-session-\d+) and the principal-change "
                               r"policy is reject")
        self.assertIn("mskiam: principal_change_rejected", err)
        self.assertRegex(err, rejection)
        # One principal and one access key per client: the new credentials never left the library.
        if "principals_by_client" in s:
            for client, principals in s["principals_by_client"].items():
                self.assertEqual(len(principals), 1, (client, principals))
                self.assertEqual(s["access_keys_by_client"][client], 1, client)
        else:
            # Kafka does not name the client: the broker saw exactly the principal each client
            # fetched first, none it refused, and one access key per client. (Both clients may
            # keep the same principal: session names carry the millisecond of the fetch.)
            kept, refused = set(), set()
            for text in (err, consumer.stderr()):
                first = re.search(r"mskiam: credentials_fetched .*?principal=(\S+)", text)
                self.assertIsNotNone(first, "a client logged no credentials_fetched event")
                kept.add(first.group(1))
                refused.update(new for new, _ in rejection.findall(text))
            self.assertEqual(set(s["principals"]), kept, refused)
            self.assertFalse(refused & set(s["principals"]), refused)
            self.assertEqual(s["access_keys"], 2)
        self.assertEqual(s["principal_change_refusals"], 0)
        self.assertEqual(s["auth_failed"], [])
        self.assertEqual(summary["principal_changes"], 0)
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s)
        self.assertEqual(status, 0, err[-3000:])
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    def test_refresh_failures_while_cached_valid(self):
        """STS fails at the first refresh (producer: HTTP 500; consumer: a 2 s timeout) while the
        cached credentials are still valid: tokens keep coming from the cached credentials, the
        next refresh succeeds, no disconnection, no loss. Credentials live 40 s here so that
        librdkafka's next refresh (80 % of the remaining token life) comes before they expire."""
        self.credential_lifetime_s = 40
        consumer = self.consumer(session_name="billing",
                                 env={"MSKIAM_E2E_FAIL_FETCHES": "2=timeout"})
        producer = self.producer(session_name="orders-api", count=44, interval_ms=1000,
                                 env={"MSKIAM_E2E_FAIL_FETCHES": "2=500"})
        status, summary = self.wait_producer(producer)
        consumed = self.drain([consumer], set(producer.values("delivered")))
        s = self.auth_summary()
        log("  producer: " + " ".join("%s=%s" % kv for kv in summary.items()))
        self.assertIn("mskiam: refresh_failed", producer.stderr())
        self.assertIn("HTTP 500", producer.stderr())
        self.assertIn("mskiam: refresh_failed", consumer.stderr())
        self.assertIn("no answer from STS", consumer.stderr())
        self.assertGreaterEqual(summary["credential_fetches"], 3)
        self.assertEqual(summary["token_failures"], 0, "a refresh failure reached librdkafka")
        self.assertEqual(sorted(s["principals"]),
                         [PRINCIPAL_PREFIX + "billing", PRINCIPAL_PREFIX + "orders-api"])
        self.assertGreaterEqual(s["access_keys"], 4, "both clients rotate after the failure")
        self.assertEqual(s["auth_failed"], [])
        self.assertEqual(s["principal_change_refusals"], 0)
        self.assert_session_behaviour(s)
        self.assert_only_expected_closes(s)
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary], pinned=True)

    def test_consumer_group_through_reauthentication(self):
        """Two members of one group through a credential rotation and several re-authentications
        (or, on 2.0.2, session-expiry reconnections): no rebalance while both run, every message
        consumed."""
        # The producer first: it creates the topic (consumers do not auto-create it).
        producer = self.producer(count=26, interval_ms=1000, session_name="orders-api")
        consumers = [self.consumer(name="consumer-%d" % i, session_name="billing-%d" % i)
                     for i in (1, 2)]
        deadline = time.time() + 30
        while not self.broker.group_settled(2, consumers):
            if time.time() > deadline:
                self.fail("no group of two members within 30 s")
            time.sleep(0.1)
        settled = self.broker.rebalance_mark(consumers)
        status, summary = self.wait_producer(producer)
        storm = self.broker.rebalances_since(settled, consumers)
        consumed = self.drain(consumers, set(producer.values("delivered")))
        s = self.auth_summary()
        self.assertEqual(storm, [], "rebalances while both members were running")
        for c, values in zip(consumers, consumed):
            self.assertGreater(len(values), 0, "%s consumed nothing" % c.name)
        self.assertEqual(s["auth_failed"], [])
        self.assertEqual(s["principal_change_refusals"], 0)
        self.assertGreaterEqual(s["access_keys"], 4, "the credentials were never rotated")
        self.assert_session_behaviour(s)
        if reauth_supported():
            self.assertGreaterEqual(s["reauthentications"], 6)
        self.assert_only_expected_closes(s)
        self.assertEqual(status, 0, producer.stderr()[-3000:])
        self.assert_no_loss([producer], consumed, [summary])


def main():
    global WORK_DIR, RDKAFKA_VERSION, CHAIN_EXAMPLES, BROKER, OUTCOMES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("producer", "consumer", "c_producer", "example-producer", "example-consumer"):
        parser.add_argument("--" + name, dest=name.replace("-", "_"))
    parser.add_argument("--examples-use-default-chain", action="store_true")
    parser.add_argument("--work-dir", default=os.path.join(os.getcwd(), "e2e-work"))
    parser.add_argument("--broker", choices=("emulator", "kafka", "both"),
                        default="emulator",
                        help="the MSK-IAM emulator (default), a real Apache Kafka broker, or both "
                             "one after the other with their outcome tables compared")
    parser.add_argument("--outcomes", help="append each scenario's outcome table (JSON lines)")
    parser.add_argument("--only", action="append", default=[],
                        help="scenario to run (test_ prefix optional); repeatable")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    for name in ("producer", "consumer", "c_producer", "example_producer", "example_consumer"):
        if getattr(args, name):
            PROGRAMS[name] = getattr(args, name)
    for name in ("producer", "consumer", "c_producer"):
        if name not in PROGRAMS:
            parser.error("--%s is required" % name)
    CHAIN_EXAMPLES = args.examples_use_default_chain
    OUTCOMES = os.path.abspath(args.outcomes) if args.outcomes else None
    WORK_DIR = os.path.abspath(args.work_dir)
    os.makedirs(WORK_DIR, exist_ok=True)

    RDKAFKA_VERSION = detect_rdkafka_version()
    expected = os.environ.get("MSKIAM_EXPECT_RDKAFKA_VERSION")
    log("librdkafka %s (%s)" % (version_text(RDKAFKA_VERSION),
                                "KIP-368 re-authentication" if reauth_supported() else
                                "no re-authentication: asserting disconnect at session expiry"))
    if expected and expected != version_text(RDKAFKA_VERSION):
        log("FAIL: MSKIAM_EXPECT_RDKAFKA_VERSION=%s but the clients load librdkafka %s"
            % (expected, version_text(RDKAFKA_VERSION)))
        return 1

    if args.broker != "both":
        BROKER = args.broker
        return run_scenarios(args.only)
    # Both brokers, one after the other, then their outcome tables compared.
    OUTCOMES = OUTCOMES or os.path.join(WORK_DIR, "outcomes.jsonl")
    open(OUTCOMES, "w").close()
    root_dir = WORK_DIR
    for BROKER in ("emulator", "kafka"):
        WORK_DIR = os.path.join(root_dir, BROKER)
        os.makedirs(WORK_DIR, exist_ok=True)
        status = run_scenarios(args.only)
        if status != 0:
            return 1  # a failed or skipped broker leaves nothing to compare
    return compare_outcomes(read_jsonl(OUTCOMES))


def run_scenarios(only):
    """0 when every scenario passed, 77 when all were skipped, 1 otherwise. Where the run must
    exercise everything (MSKIAM_EXPECT_RDKAFKA_VERSION is set: CI's 2.8.0 and newer builds), a
    skipped scenario fails the run."""
    if only:
        names = [n if n.startswith("test_") else "test_" + n for n in only]
        suite = unittest.TestSuite(Scenarios(n) for n in names)
    else:
        suite = unittest.TestLoader().loadTestsFromTestCase(Scenarios)
    log("broker: %s" % BROKER)
    return run_suite(suite)


def run_suite(suite):
    """run_scenarios' exit status for any suite of Scenario cases (tests/chaos runs its own)."""
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped and os.environ.get("MSKIAM_EXPECT_RDKAFKA_VERSION"):
        log("FAIL: %d scenario(s) skipped in a build that must run them all: %s" % (
            len(result.skipped), "; ".join("%s (%s)" % (t.id(), why) for t, why in result.skipped)))
        return 1
    if result.testsRun and len(result.skipped) == result.testsRun:
        return 77
    return 0


# What the emulator and Kafka must agree on, scenario by scenario: the message counts and the
# classes of what the broker decided. Exact authentication and principal counts depend on timing
# (two clients may draw a session name in the same millisecond) and are not compared; duplicates only where one principal held throughout (elsewhere the emulator, which
# does not deduplicate retried batches as Kafka's idempotence does, may count more).
AGREED_FIELDS = ("produced", "acknowledged", "consumed_distinct", "lost", "several_principals",
                 "reauthenticated", "principal_change_refused", "other_auth_failures")


def compare_outcomes(records):
    by = collections.defaultdict(dict)
    for r in records:
        r = dict(r, consumed_distinct=r["consumed"] - r["duplicated"])
        by[r["scenario"]][r["broker"]] = r
    log("\n%-44s %-9s %s" % ("scenario", "broker", "  ".join(AGREED_FIELDS)))
    disagreements = []
    for scenario, pair in sorted(by.items()):
        for broker in ("emulator", "kafka"):
            r = pair.get(broker)
            log("%-44s %-9s %s" % (scenario, broker, "  ".join(
                str(r[f]) if r else "-" for f in AGREED_FIELDS)))
        if len(pair) != 2:
            disagreements.append("%s: ran on %s only" % (scenario, ", ".join(pair)))
            continue
        for f in AGREED_FIELDS:
            if pair["emulator"][f] != pair["kafka"][f]:
                disagreements.append("%s: %s is %s on the emulator, %s on Kafka" % (
                    scenario, f, pair["emulator"][f], pair["kafka"][f]))
    for d in disagreements:
        log("DISAGREE: " + d)
    if not by:
        log("FAIL: no outcome to compare")
        return 1
    return 1 if disagreements else 0

if __name__ == "__main__":
    sys.exit(main())
