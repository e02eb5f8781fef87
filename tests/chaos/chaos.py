#!/usr/bin/python3
"""Chaos experiments: mskiam's producer example and two consumer examples (one group) run through
the MSK-IAM emulator or a real Kafka broker while one fault is injected, in compressed time
(credentials live 20 s, broker sessions 4 s: one second here stands for three minutes of one-hour
credentials). Each experiment prints, and appends to --outcomes, what an operator would want to
know: the errors the clients saw, p99 and max produce latency during and after the fault, the
time to recover, messages lost (asserted 0) and duplicated, the mskiam events the clients logged,
and which alert rules of docs/alerts.md would have fired, and when (promtool over the metrics
each client wrote with --metrics-file, the experiment's time scaled back to real time).

Faults (see docs/chaos.md for what each scaled experiment stands for):
  broker_restart        Kafka's clean shutdown and start on the same ports and logs (Kafka only)
  leader_lost           three Kafka nodes, the topic on all three (min.insync.replicas 2): the
                        leader of a partition killed (SIGKILL), started again later (Kafka only)
  sts_down              STS answers nothing (SIGSTOP) for longer than a credential lifetime
  sts_throttled         STS answers Throttling to every call for a quarter of a credential lifetime
  container_blackhole   the container credential endpoint (169.254.170.2) drops every packet:
                        routed into a veth pair in this run's own network namespace
  clock_forward, clock_back
                        the clients' wall clock steps 10 minutes, then back: the clock of their
                        token providers (stepped_clock.hpp); librdkafka's timers do not move
  web_identity_rotated  the web identity token file is replaced (as the kubelet does); STS accepts
                        only the new token from then on

    chaos.py --producer mskiam-chaos-producer --consumer mskiam-chaos-consumer
             [--broker emulator|kafka]
             [--work-dir DIR] [--outcomes FILE.jsonl] [--only NAME ...]
    chaos.py --outcomes FILE.jsonl --table FILE.md

The clients are the producer and consumer examples built with the default chain and a clock the
suite steps (tests/chaos/CMakeLists.txt), their credentials from web identity through the STS
fake, or from the container endpoint fake.

The whole run lives in a network namespace of its own (unshare --net; root). Exit status 0 when
every experiment passed, 77 when none could run, 1 otherwise. --table writes the markdown table of
the outcomes file (docs/chaos.md holds the last one) and exits.
"""

import argparse
import collections
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "alerts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "kafka"))
import broker as kafka_broker  # noqa: E402  (partition_leaders)
import scenarios as e2e  # noqa: E402  (processes, brokers, outcome accounting)
import test_alerts  # noqa: E402  (the rules of docs/alerts.md, prometheus_client's parser)

LIFETIME_S = 20               # credentials; one-hour credentials compressed 180 times
SCALE = 3600 / LIFETIME_S     # real seconds per experiment second
INTERVAL_MS = 200             # between two messages
RUN_S = 40                    # the producer's run
FAULT_AT_S = 8                # faults that must meet a refresh last >= 2/3 of a lifetime: the
                              # longest time between two refreshes (RefreshPolicy)
SLOW_MS = 1000                # a delivery slower than this is not recovered yet
CONTAINER_HOST = "169.254.170.2"
VETH, VETH_PEER = "chaos0", "chaos1"
STAYING_ADDRESS = "192.0.2.1"  # TEST-NET-1
NETNS_MARK = "MSKIAM_CHAOS_NETNS"
SAMPLE_S = 1.0 / 3            # metrics sampled every 1/3 s: one real minute
# Web identity tokens are secrets: tests/secret_sweep.py looks for both in everything printed.
FIRST_TOKEN = "eyJ.chaos-first-web-identity-token"
ROTATED_TOKEN = "eyJ.chaos-rotated-web-identity-token"
OUTCOMES = None

# `mskiam-producer: error Local: Broker transport failure: <text>`: the class is librdkafka's
# err2str, two parts separated by ": " (example::ErrorReport).
ERROR_LINE = re.compile(r"^mskiam-(?:producer|consumer): (?:FATAL )?error ([^:]+: [^:]+):")
EVENT_LINE = re.compile(r"^mskiam: (\w+)")


def log(*parts):
    print(*parts, flush=True)


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True, timeout=10)


def enter_network_namespace():
    """Re-runs this script in a new network namespace, where a black hole harms nothing else:
    loopback up, and a veth pair whose first end holds the container endpoint's address."""
    if os.environ.get(NETNS_MARK) == "1":
        ip("link", "set", "lo", "up")
        ip("link", "add", VETH, "type", "veth", "peer", "name", VETH_PEER)
        ip("link", "set", VETH, "up")
        ip("link", "set", VETH_PEER, "up")
        ip("addr", "add", CONTAINER_HOST + "/32", "dev", VETH)
        # An address that stays when the black hole takes the other: without a non-loopback IPv4
        # address, getaddrinfo(AI_ADDRCONFIG) refuses even "127.0.0.1" to librdkafka.
        ip("addr", "add", STAYING_ADDRESS + "/32", "dev", VETH)
        return
    if subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode != 0:
        if os.environ.get("MSKIAM_EXPECT_RDKAFKA_VERSION"):  # a build that must run everything
            log("FAIL: no network namespace (unshare --net needs root)")
            sys.exit(1)
        log("SKIP: no network namespace (unshare --net needs root)")
        sys.exit(77)
    os.environ[NETNS_MARK] = "1"
    os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Sampler(threading.Thread):
    """Every SAMPLE_S: each client's metrics file, and the event and error lines its stderr gained
    since, each stamped with the monotonic time it was seen."""

    def __init__(self, clients):
        super().__init__(daemon=True)
        self.clients = clients
        self.samples = []   # (mono_s, {client: {(name, labels): value}})
        self.lines = []     # (mono_s, client name, line)
        self.offsets = {c.name: 0 for c in clients}
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(SAMPLE_S):
            self.sample()

    def sample(self):
        now = time.monotonic()
        metrics = {}
        for c in self.clients:
            try:
                with open(c.metrics_path) as f:
                    metrics[c.name] = test_alerts.parse(f.read())
            except (OSError, ValueError):
                pass
            with open(c.stderr_path, errors="replace") as f:
                f.seek(self.offsets[c.name])
                text = f.read()
            complete = text[:text.rfind("\n") + 1]
            self.offsets[c.name] += len(complete.encode())
            self.lines += [(now, c.name, line) for line in complete.splitlines()]
        self.samples.append((now, metrics))

    def stop(self):
        self.done.set()
        self.join()
        self.sample()


class Experiment(e2e.Scenario):
    """One fault through a producer and a consumer group; fault() and heal() say what it is."""

    credential_lifetime_s = LIFETIME_S
    fault_s = 0            # how long the fault lasts (0: the time fault() itself takes)
    at_a_refresh = False   # the fault begins as a client's refresh window opens
    fakes_args = ()
    brokers = ("emulator", "kafka")

    def setUp(self):
        if e2e.BROKER not in self.brokers:
            self.skipTest("%s runs on %s only" % (self._testMethodName, ", ".join(self.brokers)))
        super().setUp()
        self.start_fakes(LIFETIME_S, ["--host", "0.0.0.0"] + list(self.fakes_args))
        self.fakes_port = self.fakes_url.rsplit(":", 1)[1]

    # --- what each experiment changes -------------------------------------------------------------

    def client_source_env(self, name):
        """Web identity through the STS fake, the session name pinned per client."""
        token = os.path.join(self.dir, "web-identity-token")
        if not os.path.exists(token):
            self.write_token(FIRST_TOKEN)
        return {"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": e2e.ROLE_ARN,
                "AWS_ROLE_SESSION_NAME": name, "AWS_EC2_METADATA_DISABLED": "true"}

    def client_args(self):
        return ["--sts-endpoint", self.fakes_url]

    def write_token(self, text):
        path = os.path.join(self.dir, "web-identity-token")
        with open(path + ".new", "w") as f:
            f.write(text + "\n")
        os.replace(path + ".new", path)

    def fault(self):
        raise NotImplementedError

    def heal(self):
        pass

    def check(self, r):
        """The experiment's own assertions over its result `r` (run())."""

    # --- the run ----------------------------------------------------------------------------------

    def spawn_client(self, name, program, args, env_extra=None):
        env = {k: "" for k in os.environ if k.startswith("AWS_")}
        env.update({"AWS_CONFIG_FILE": os.path.join(self.dir, "no-config"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "no-credentials")})
        env.update(self.client_source_env(name))
        env.update(env_extra or {})
        metrics_path = os.path.join(self.dir, name + ".prom")
        p = self.spawn(name, [e2e.PROGRAMS[program], "--bootstrap", self.bootstrap, "--region",
                              e2e.REGION, "--topic", "chaos", "--security-protocol",
                              "SASL_PLAINTEXT", "--events", "--metrics-file", metrics_path]
                       + self.client_args() + args, env)
        p.metrics_path = metrics_path
        return p

    def client_env(self, extra=None):
        return dict(extra or {})

    def run_test(self):
        r = self.run_experiment()
        self.report(r)
        self.check(r)
        self.assertEqual(r["producer_status"], 0, self.producer.stderr()[-3000:])
        self.assert_no_loss([self.producer], r["consumed_values"], [r["summary"]])

    def run_experiment(self):
        env = self.client_env()
        self.consumers = [self.spawn_client("consumer-%d" % i, "example_consumer",
                                            ["--group", "chaos-group", "--count", "0"], env)
                          for i in (1, 2)]
        count = RUN_S * 1000 // INTERVAL_MS
        self.producer = self.spawn_client("producer", "example_producer", [
            "--count", str(count), "--interval-ms", str(INTERVAL_MS), "--message-prefix", "chaos"],
            env)
        started = time.monotonic()
        sampler = Sampler([self.producer] + self.consumers)
        sampler.start()
        time.sleep(max(0.0, started + FAULT_AT_S - time.monotonic()))
        if self.at_a_refresh:
            self.wait_for_a_refresh_window(sampler, started)
        fault_start = time.monotonic()
        log("  fault at %.1f s: %s" % (fault_start - started, self._testMethodName))
        self.fault()
        if self.fault_s:
            time.sleep(max(0.0, fault_start + self.fault_s - time.monotonic()))
            if self.at_a_refresh:
                self.wait_for_a_failed_refresh(sampler, fault_start)
            self.heal()
        fault_end = time.monotonic()
        log("  healed at %.1f s" % (fault_end - started))
        status, summary = self.wait_producer(self.producer, timeout=RUN_S + 300)
        consumed = self.drain(self.consumers, set(self.producer.values("delivered")), timeout=60)
        sampler.stop()
        return self.measure(status, summary, consumed, sampler, fault_start, fault_end)

    def wait_for_a_refresh_window(self, sampler, started):
        """Until a client whose first refresh is done (later ones come when between 1/2 and 1/3 of
        the lifetime remains, RefreshPolicy) has at most half its lifetime left: a fault of a
        quarter lifetime from now meets its next refresh, which succeeds once the fault ends,
        with a quarter of the lifetime still left."""
        deadline = started + FAULT_AT_S + 2 * LIFETIME_S
        while time.monotonic() < deadline:
            metrics = sampler.samples[-1][1] if sampler.samples else {}
            for client, series in metrics.items():
                fetches = expiry = None
                for (name, _), value in series.items():
                    if name == "mskiam_credential_fetches_total":
                        fetches = value
                    elif name == "mskiam_credentials_expiry_seconds":
                        expiry = value
                if fetches and fetches >= 2 and expiry is not None and expiry <= LIFETIME_S / 2:
                    log("  %s has %.1f s of credentials left: the fault begins" % (client, expiry))
                    return
            time.sleep(0.05)
        self.fail("no client came to a refresh window within two lifetimes")

    def wait_for_a_failed_refresh(self, sampler, fault_start):
        """The metrics the window was read from are up to a second old: a refresh may have come
        just before the fault. Then the fault goes on until a refresh has met it (the next one
        comes within 2/3 of a lifetime, with more than a quarter left)."""
        deadline = fault_start + 0.7 * LIFETIME_S
        while time.monotonic() < deadline:
            if any(t >= fault_start and line.startswith("mskiam: refresh_failed")
                   for t, _, line in sampler.lines):
                return
            time.sleep(0.05)

    def measure(self, status, summary, consumed, sampler, fault_start, fault_end):
        during, after, slow = [], [], []
        for line in self.producer.stdout().splitlines():
            fields = line.split()
            if not line.startswith("delivered ") or len(fields) < 5:
                continue
            latency_ms = int(fields[3].split("=")[1]) / 1000.0
            delivered_s = int(fields[4].split("=")[1]) / 1000.0
            produced_s = delivered_s - latency_ms / 1000.0
            if produced_s >= fault_end:
                after.append(latency_ms)
            elif delivered_s >= fault_start:
                during.append(latency_ms)
            if latency_ms > SLOW_MS:
                slow.append(delivered_s)
        errors = collections.Counter()
        events = {}
        for t, client, line in sampler.lines:
            m = ERROR_LINE.match(line)
            if m:
                errors[m.group(1)] += 1
            elif "no new token" in line:
                errors["no new token"] += 1
            elif "expected recovery" in line:
                errors["principal change (expected)"] += 1
            m = EVENT_LINE.match(line)
            if m and m.group(1) != "credentials_fetched":
                first = events.setdefault(m.group(1), {"count": 0, "first_s": t - fault_start})
                first["count"] += 1
        expiry_during = [v for t, metrics in sampler.samples if fault_start <= t <= fault_end
                         for series in metrics.values() for (name, _), v in series.items()
                         if name == "mskiam_credentials_expiry_seconds"]
        return {
            "expiry_during_s": [min(expiry_during, default=None),
                                max(expiry_during, default=None)],
            "producer_status": status, "summary": summary, "consumed_values": consumed,
            "errors": dict(errors), "events": events,
            "p99_during_ms": percentile(during, 0.99), "max_during_ms": max(during, default=None),
            "p99_after_ms": percentile(after, 0.99), "max_after_ms": max(after, default=None),
            "recover_s": max([t - fault_end for t in slow] + [0.0]),
            "fault_s": fault_end - fault_start,
            "alerts": alerts_fired(sampler.samples, fault_start),
            "auth": self.auth_summary(),
        }

    def report(self, r):
        fmt = lambda v: "-" if v is None else "%.0f" % v  # noqa: E731
        log("  errors the clients saw: %s" % (r["errors"] or "none"))
        log("  produce latency ms: during p99 %s max %s; after p99 %s max %s; recovered %.1f s "
            "after the fault ended" % (fmt(r["p99_during_ms"]), fmt(r["max_during_ms"]),
                                       fmt(r["p99_after_ms"]), fmt(r["max_after_ms"]),
                                       r["recover_s"]))
        log("  events (first, seconds after the fault began): %s" % (", ".join(
            "%s x%d at %+.1f" % (k, v["count"], v["first_s"]) for k, v in sorted(
                r["events"].items())) or "none"))
        log("  alerts (real time after the fault began): %s" % (", ".join(
            "%s at %+.0f min" % (k, v / 60) for k, v in sorted(r["alerts"].items())) or "none"))
        self.result = r

    def record_outcome(self, outcome):
        """The experiment's row of docs/chaos.md, beside the e2e outcome table."""
        r = getattr(self, "result", {})
        if OUTCOMES:
            with open(OUTCOMES, "a") as f:
                f.write(json.dumps(dict(
                    outcome, experiment=self.name, refused=len(r["auth"]["auth_failed"]),
                    broker=e2e.BROKER, librdkafka=e2e.version_text(e2e.RDKAFKA_VERSION),
                    **{k: v for k, v in r.items() if k not in ("summary", "consumed_values",
                                                               "auth")}), sort_keys=True) + "\n")


def alerts_fired(samples, fault_start):
    """{alert: real seconds after the fault began when it first fired}: the rules of
    docs/alerts.md evaluated by promtool over the clients' metrics, one sample per real minute
    (SAMPLE_S here) and every gauge of elapsed time scaled back to real time. The token lifetime
    asked for (900 s) is a real-world value already."""
    scaled = ("mskiam_credentials_expiry_seconds", "mskiam_token_expiry_seconds",
              "mskiam_last_success_age_seconds")
    # A client's start is not compressed: connecting and the first token take a real second or
    # two, which scaled would be minutes without a token. The series begin once every client has
    # signed one.
    clients = max((len(metrics) for _, metrics in samples), default=0)

    def started(metrics):
        signed = [v for series in metrics.values() for (name, _), v in series.items()
                  if name == "mskiam_tokens_signed_total"]
        return len(signed) == clients and all(signed)
    while samples and not started(samples[0][1]):
        samples = samples[1:]
    minutes = []
    for _, metrics in samples:
        minute = {}
        for client, series in metrics.items():
            for (name, labels), value in series.items():
                # Both consumers label themselves client="mskiam-consumer": the scrape's
                # `instance` tells them apart, as Prometheus adds it.
                key = (name, tuple(sorted(labels + (("instance", client),))))
                minute[key] = value * SCALE if name in scaled else value
        minutes.append(minute)
    if not minutes:
        return {}
    rules = test_alerts.rules_of_alerts_md()
    names = re.findall(r"^\s*- alert: (\w+)", rules, re.M)
    work = os.path.join(e2e.WORK_DIR, "alerts")
    os.makedirs(work, exist_ok=True)
    rules_path = os.path.join(work, "rules.yml")
    with open(rules_path, "w") as f:
        f.write(rules)
    # Expect nothing at every minute: promtool then names every alert that fired, and when.
    test = {"rule_files": [rules_path], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": test_alerts.input_series(minutes),
        "alert_rule_test": [{"alertname": a, "eval_time": "%dm" % m, "exp_alerts": []}
                            for a in names for m in range(len(minutes))]}]}
    test_path = os.path.join(work, "test.json")
    with open(test_path, "w") as f:
        json.dump(test, f)
    out = subprocess.run(["promtool", "test", "rules", test_path], capture_output=True, text=True,
                         timeout=300)
    fired = {}
    for alert, h, m in re.findall(r"alertname: (\w+), time: (?:(\d+)h)?(?:(\d+)m)?",
                                  out.stdout + out.stderr):
        minute = int(h or 0) * 60 + int(m or 0)
        t = (samples[minute][0] - fault_start) * SCALE  # the sample's own time, scaled
        fired[alert] = min(fired.get(alert, t), t)
    return fired


class BrokerRestart(Experiment):
    name = "broker_restart"
    brokers = ("kafka",)  # the emulator keeps its log in memory: a restart would lose it

    def fault(self):
        self.broker.process.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 90
        while not any(e.get("event") == "broker_restarted" for e in self.broker.events()):
            self.assertLess(time.time(), deadline, "Kafka did not restart within 90 s")
            time.sleep(0.1)

    def check(self, r):
        self.assertIn("Local: Broker transport failure", r["errors"], "no client saw the restart")
        self.assertLess(r["recover_s"], 30)


class LeaderLost(Experiment):
    """Three KRaft nodes (each broker and controller), the topic replicated on all three with
    min.insync.replicas=2: the leader of partition chaos/0 is killed (SIGKILL, no clean shutdown)
    and started again `fault_s` later on the same ports and log directory."""
    name = "leader_lost"
    brokers = ("kafka",)
    kafka_args = ("--nodes", "3")
    fault_s = 15
    topic_partition = 0

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.broker.dir, "nodes.json")) as f:
            self.nodes = {n["id"]: n for n in json.load(f)}
        self.bootstrap = ",".join("127.0.0.1:%d" % n["sasl_port"] for n in self.nodes.values())

    def partition(self, without=None):
        """(leader, in-sync replicas) of chaos/0 as the first node that answers tells."""
        for node in self.nodes.values():
            if node["id"] != without:
                try:
                    return kafka_broker.partition_leaders(node["plain_port"], "chaos").get(
                        self.topic_partition, (-1, []))
                except (OSError, struct.error):
                    continue
        return (-1, [])

    def wait_partition(self, condition, what, timeout_s, without=None):
        deadline = time.monotonic() + timeout_s
        while True:
            leader, isr = self.partition(without)
            if condition(leader, isr):
                return leader, isr
            self.assertLess(time.monotonic(), deadline, "chaos/%d: %s within %d s (leader %d, in "
                            "sync %s)" % (self.topic_partition, what, timeout_s, leader, isr))
            time.sleep(0.2)

    def fault(self):
        self.killed, isr = self.wait_partition(lambda leader, isr: leader > 0 and len(isr) == 3,
                                               "no leader with three replicas in sync", 30)
        os.kill(self.nodes[self.killed]["pid"], signal.SIGKILL)
        killed_at = time.monotonic()
        log("  chaos/%d: leader %d (in sync %s) killed" % (self.topic_partition, self.killed, isr))
        self.elected, self.isr_without = self.wait_partition(
            lambda leader, isr: leader not in (-1, self.killed), "no new leader", 30, self.killed)
        self.election_s = time.monotonic() - killed_at
        log("  chaos/%d: node %d leads %.1f s after the kill, in sync %s" % (
            self.topic_partition, self.elected, self.election_s, self.isr_without))

    def heal(self):
        restarts = len(self.broker.events("broker_restarted"))
        self.broker.process.proc.send_signal(signal.SIGHUP)  # broker.py starts the killed node
        deadline = time.monotonic() + 90
        while len(self.broker.events("broker_restarted")) == restarts:
            self.assertLess(time.monotonic(), deadline, "node %d did not start within 90 s"
                            % self.killed)
            time.sleep(0.1)

    def check(self, r):
        self.assertNotEqual(self.elected, self.killed)
        self.assertNotIn(self.killed, self.isr_without)
        # min.insync.replicas=2: acks=all produce goes on with the two that are left.
        self.assertGreaterEqual(len(self.isr_without), 2)
        self.assertLess(r["recover_s"], 30)
        leader, isr = self.wait_partition(lambda leader, isr: len(isr) == 3,
                                          "the restarted node not back in sync", 60)
        log("  chaos/%d after the run: leader %d, in sync %s" % (self.topic_partition, leader, isr))
        r["leader"] = {"killed": self.killed, "elected": self.elected,
                       "election_s": round(self.election_s, 1), "isr_after": isr}


class StsDown(Experiment):
    """STS does not answer (its process stopped) for 1.5 credential lifetimes."""
    name = "sts_down"
    fault_s = 1.5 * LIFETIME_S

    def fault(self):
        self.fakes.proc.send_signal(signal.SIGSTOP)

    def heal(self):
        self.fakes.proc.send_signal(signal.SIGCONT)

    def check(self, r):
        self.assertIn("refresh_failed", r["events"])
        self.assertIn("MskiamRefreshFailing", r["alerts"])
        self.assertIn("MskiamCredentialsExpiring", r["alerts"])
        self.assertLess(r["recover_s"], 30)


class StsThrottled(Experiment):
    """Every STS call throttled for a quarter of a credential lifetime, from the moment a client's
    refresh window opens: cached credentials sign on, the refresh succeeds once throttling ends."""
    name = "sts_throttled"
    fault_s = LIFETIME_S / 4
    at_a_refresh = True

    def fault(self):
        self.control({"faults": {"endpoint": "sts", "type": "error", "code": "Throttling",
                                 "persistent": True}})

    def heal(self):
        self.control({"clear_faults": "all"})

    def control(self, document):
        import urllib.request
        request = urllib.request.Request(self.fakes_url + "/_control",
                                         data=json.dumps(document).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            self.assertEqual(answer.status, 200)

    def check(self, r):
        # Whether cached credentials cover the whole fault depends on when librdkafka next asks
        # for a token (docs/chaos.md): what must hold is that a refresh met the fault and that
        # the clients recover at once when it ends.
        self.assertIn("refresh_failed", r["events"])
        throttled = [e for e in self.fakes_log() if e.get("fault") == "error"]
        self.assertGreater(len(throttled), 0)
        self.assertLess(r["recover_s"], 15)


class ContainerBlackhole(Experiment):
    """The container credential endpoint drops every packet (no answer at all) for a quarter of
    a credential lifetime, from the moment a client's refresh window opens."""
    name = "container_blackhole"
    fault_s = LIFETIME_S / 4
    at_a_refresh = True

    def client_source_env(self, name):
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://%s:%s/v2/credentials/abc" % (
            CONTAINER_HOST, self.fakes_port), "AWS_EC2_METADATA_DISABLED": "true"}

    def client_args(self):
        return []

    def start_fakes(self, lifetime_s, extra_args=()):
        """New credentials whenever a client's refresh window is open, as the ECS and EKS agents
        hand out credentials with most of their life ahead (the fake's default, a quarter of the
        lifetime, would serve the same ones again until too late for this experiment)."""
        config = os.path.join(self.dir, "fakes-config.json")
        with open(config, "w") as f:
            json.dump({"container": {"refresh_before_s": LIFETIME_S / 2 + 1}}, f)
        super().start_fakes(lifetime_s, list(extra_args) + ["--config", config])

    def fault(self):
        """The address leaves this host and is routed into the veth pair, to the MAC address of
        its other end: that end takes the packets, is no router (forwarding is off in a new
        namespace) and drops them. No SYN-ACK, no RST, no ICMP: nothing ever answers."""
        peer_mac = json.loads(subprocess.run(["ip", "-j", "link", "show", VETH_PEER],
                                             capture_output=True, text=True,
                                             check=True).stdout)[0]["address"]
        ip("addr", "del", CONTAINER_HOST + "/32", "dev", VETH)
        ip("route", "add", CONTAINER_HOST + "/32", "dev", VETH)
        ip("neigh", "replace", CONTAINER_HOST, "lladdr", peer_mac, "dev", VETH, "nud", "permanent")
        with self.assertRaises(TimeoutError, msg="the black hole answered"):
            socket.create_connection((CONTAINER_HOST, int(self.fakes_port)), timeout=1).close()

    def heal(self):
        ip("route", "del", CONTAINER_HOST + "/32", "dev", VETH)
        ip("neigh", "del", CONTAINER_HOST, "dev", VETH)
        ip("addr", "add", CONTAINER_HOST + "/32", "dev", VETH)

    def check(self, r):
        self.assertIn("refresh_failed", r["events"])  # as StsThrottled.check
        self.assertLess(r["recover_s"], 15)


class ClockStep(Experiment):
    """The clients' wall clock, as their token providers see it, steps by `step_s` and is
    corrected `fault_s` later (tests/chaos/stepped_clock.hpp: librdkafka's timers, curl, STS and
    the broker keep the right time)."""
    step_s = 600
    fault_s = 10

    def client_env(self, extra=None):
        self.step_file = os.path.join(self.dir, "clock-step")
        self.set_step(0)
        return {"MSKIAM_CHAOS_CLOCK_STEP_FILE": self.step_file}

    def set_step(self, seconds):
        with open(self.step_file + ".new", "w") as f:
            f.write("%d\n" % seconds)
        os.replace(self.step_file + ".new", self.step_file)

    def fault(self):
        self.set_step(self.step_s)

    def heal(self):
        self.set_step(0)

    def check(self, r):
        # The providers saw the step (their credentials' expiry moved by it while it lasted;
        # whether anything else shows depends on whether a token was signed meanwhile), and it
        # was survived: everything delivered, within a bound after the correction.
        low, high = r["expiry_during_s"]
        self.assertIsNotNone(low, "no metrics while the clock was stepped")
        if self.step_s > 0:
            self.assertLess(low, 0, "the providers' clock did not step ahead")
        else:
            self.assertGreater(high, LIFETIME_S, "the providers' clock did not step back")
        self.assertLess(r["recover_s"], 30)


class ClockForward(ClockStep):
    name = "clock_forward"
    step_s = 600


class ClockBack(ClockStep):
    name = "clock_back"
    step_s = -600


class WebIdentityRotated(Experiment):
    """The token file is replaced mid-run and STS accepts only the new token from then on."""
    name = "web_identity_rotated"

    @property
    def fakes_args(self):
        return ["--expected-web-identity-token-file", os.path.join(self.dir, "web-identity-token")]

    def start_fakes(self, lifetime_s, extra_args=()):
        self.write_token(FIRST_TOKEN)
        super().start_fakes(lifetime_s, extra_args)

    def fault(self):
        self.rotated_at_ms = time.time() * 1000
        self.write_token(ROTATED_TOKEN)

    def check(self, r):
        calls = [e for e in self.fakes_log() if e.get("action") == "AssumeRoleWithWebIdentity"]
        later = [e for e in calls if e.get("ts", 0) * 1000 > self.rotated_at_ms]
        self.assertGreaterEqual(len(later), 2, "no refresh after the rotation")
        self.assertEqual({e.get("status") for e in calls}, {200}, "a call carried a stale token")
        self.assertNotIn("refresh_failed", r["events"])
        self.assertLess(r["max_during_ms"] or 0, SLOW_MS)


EXPERIMENTS = {c.name: c for c in (BrokerRestart, LeaderLost, StsDown, StsThrottled, ContainerBlackhole,
                                   ClockForward, ClockBack, WebIdentityRotated)}

TABLE_FIELDS = ("experiment", "broker", "librdkafka", "errors", "tokens refused",
                "p99/max during (ms)",
                "p99/max after (ms)", "recovered (s)", "lost", "duplicated",
                "events (first, s after the fault)", "alerts (real min after the fault)")


def table(outcomes):
    """The markdown table of an outcomes file: one row per experiment and broker, the last run's."""
    rows = {}
    for r in e2e.read_jsonl(outcomes):
        rows[(r["experiment"], r["broker"])] = r
    fmt = lambda v: "-" if v is None else "%.0f" % v  # noqa: E731
    lines = ["| " + " | ".join(TABLE_FIELDS) + " |", "|" + "---|" * len(TABLE_FIELDS)]
    for (name, broker), r in sorted(rows.items()):
        lines.append("| " + " | ".join([
            name, broker, r["librdkafka"],
            ", ".join("%s x%d" % kv for kv in sorted(r["errors"].items())) or "none",
            str(r["refused"]),
            "%s / %s" % (fmt(r["p99_during_ms"]), fmt(r["max_during_ms"])),
            "%s / %s" % (fmt(r["p99_after_ms"]), fmt(r["max_after_ms"])),
            "%.1f" % r["recover_s"], str(r["lost"]), str(r["duplicated"]),
            ", ".join("%s x%d %+.1f" % (k, v["count"], v["first_s"])
                      for k, v in sorted(r["events"].items())) or "none",
            ", ".join("%s %+.0f" % (k, v / 60) for k, v in sorted(r["alerts"].items()))
            or "none"]) + " |")
    return "\n".join(lines) + "\n"


def main():
    global OUTCOMES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--producer", help="mskiam-chaos-producer")
    parser.add_argument("--consumer", help="mskiam-chaos-consumer")
    parser.add_argument("--work-dir", default=os.path.join(os.getcwd(), "chaos-work"))
    parser.add_argument("--broker", choices=("emulator", "kafka"), default="emulator")
    parser.add_argument("--outcomes", help="append each experiment's outcome (JSON lines)")
    parser.add_argument("--only", action="append", default=[], choices=sorted(EXPERIMENTS))
    parser.add_argument("--table", help="write the markdown table of --outcomes here (- for standard output) and exit")
    args = parser.parse_args()
    if args.table:
        if args.table == "-":  # standard output, never reopened: "w" on /dev/stdout truncates a log
            sys.stdout.write(table(args.outcomes))
        else:
            with open(args.table, "w") as f:
                f.write(table(args.outcomes))
        return 0
    for name in ("producer", "consumer"):
        if not getattr(args, name):
            parser.error("--%s is required" % name)
        e2e.PROGRAMS[name] = e2e.PROGRAMS["example_" + name] = os.path.abspath(getattr(args, name))
    enter_network_namespace()
    OUTCOMES = os.path.abspath(args.outcomes) if args.outcomes else None
    e2e.OUTCOMES = None
    e2e.BROKER = args.broker
    e2e.WORK_DIR = os.path.abspath(os.path.join(args.work_dir, args.broker))
    os.makedirs(e2e.WORK_DIR, exist_ok=True)
    e2e.RDKAFKA_VERSION = e2e.detect_rdkafka_version()
    log("librdkafka %s, broker %s" % (e2e.version_text(e2e.RDKAFKA_VERSION), args.broker))
    suite = unittest.TestSuite()
    for name in args.only or sorted(EXPERIMENTS):
        experiment = EXPERIMENTS[name]
        case = type(experiment.__name__, (experiment,), {"test_" + name: experiment.run_test})
        suite.addTest(case("test_" + name))
    return e2e.run_suite(suite)


if __name__ == "__main__":
    sys.exit(main())
