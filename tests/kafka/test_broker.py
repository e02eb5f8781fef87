#!/usr/bin/python3
"""The test broker (broker.py) against librdkafka through python3-confluent-kafka.

Every refusal reason of the validator must reach the client as the text of an authentication failure
(and not hang it), be logged by the broker with its reason and be an event; a valid token must carry a
produce + consume round trip with Kafka's own counters agreeing; a client that does not re-authenticate
(librdkafka 2.0.2) is disconnected by Kafka once its session is over; with a librdkafka >= 2.2 build, a
re-authentication that changes the principal is refused with Kafka's own text (skipped without one).
No secret, session token or token may appear in anything the broker wrote.

Java and Maven are installed by broker.py when missing; when that cannot be done the tests fail, unless
MSKIAM_KAFKA_OPTIONAL=1 (then the run exits 77: skipped).

    /usr/bin/python3 tests/kafka/test_broker.py -v
"""
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import broker  # noqa: E402
from msk_emulator import Reader, Writer, presign_token  # noqa: E402  botocore signs the tokens

import confluent_kafka  # noqa: E402  Debian's python3-confluent-kafka (scripts/setup.sh)

REGION = "us-east-1"
HOST = "kafka.us-east-1.amazonaws.com"
SECRET = "kafka-broker-test-secret/not+real"
SESSION_TOKEN = "kafka-broker-test-session-token/not+real=="
PRINCIPAL_A = "arn:aws:sts::123456789012:assumed-role/MskRole/session-a"
PRINCIPAL_B = "arn:aws:sts::123456789012:assumed-role/MskRole/session-b"
SESSION_LIFETIME_MS = 4000
REGISTRY = {
    "AKIDBROKERA": {"secret_access_key": SECRET, "principal": PRINCIPAL_A, "expiration_ms": None},
    "ASIABROKERB": {"secret_access_key": SECRET, "principal": PRINCIPAL_B,
                    "expiration_ms": int(time.time() * 1000) + 3600 * 1000, "session_token": SESSION_TOKEN},
    "ASIAEXPIRED": {"secret_access_key": SECRET, "principal": PRINCIPAL_A,
                    "expiration_ms": int(time.time() * 1000) - 1000, "session_token": SESSION_TOKEN},
}
AUTH_WAIT_S = 15  # a refused client must report the failure well before this

the_broker = None
work_dir = None  # MSKIAM_KAFKA_WORK_DIR (kept, e.g. for the secret sweep of CI), else a temporary one
tokens_made = []  # every token handed to a client: none may appear in the broker's files


def setUpModule():
    global the_broker, work_dir
    work_dir = os.environ.get("MSKIAM_KAFKA_WORK_DIR") or tempfile.mkdtemp(prefix="mskiam-kafka-test-")
    shutil.rmtree(os.path.join(work_dir, "broker"), ignore_errors=True)
    os.makedirs(work_dir, exist_ok=True)
    registry = os.path.join(work_dir, "registry.json")
    broker.write_atomically(registry, json.dumps(REGISTRY))
    the_broker = broker.KafkaBroker(os.path.join(work_dir, "broker"), registry, REGION,
                                    session_lifetime_ms=SESSION_LIFETIME_MS)
    the_broker.start()
    print("broker started in %.1f s" % the_broker.startup_s, file=sys.stderr)


def tearDownModule():
    if the_broker is not None:
        the_broker.stop()
    if work_dir and not os.environ.get("MSKIAM_KAFKA_WORK_DIR"):
        shutil.rmtree(work_dir, ignore_errors=True)


def token(key="AKIDBROKERA", secret=SECRET, region=REGION, **kwargs):
    value, _ = presign_token(key, secret, region, **kwargs)
    tokens_made.append(value)
    return value


def padded_token():
    """A valid token written with '=' padding: some user agent makes the URL length not a multiple of 3."""
    for agent in ("x", "xy", "xyz"):
        value = token(user_agent=agent)
        url = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        padded = base64.urlsafe_b64encode(url).decode("ascii")
        if padded.endswith("="):
            return padded
    raise AssertionError("no user agent gave a URL that needs padding")


def client_config(token_for_call, errors, bootstrap=None, **extra):
    def oauth_cb(_config):
        return token_for_call(), time.time() + 60  # confluent-kafka 1.7: (token, expiry in seconds)
    config = {"bootstrap.servers": bootstrap or the_broker.bootstrap, "security.protocol": "SASL_PLAINTEXT",
              "sasl.mechanisms": "OAUTHBEARER", "oauth_cb": oauth_cb, "error_cb": errors.append,
              "reconnect.backoff.max.ms": 1000}
    config.update(extra)
    return config


def socket_metric(name):
    return (the_broker.metrics() or {}).get("socket_server", {}).get(name, 0)


def wait_for(predicate, timeout_s, step_s=0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


class BrokerCase(unittest.TestCase):
    def setUp(self):
        self.started = time.monotonic()

    def tearDown(self):
        print("  %s: %.1f s" % (self.id().rsplit(".", 1)[-1], time.monotonic() - self.started), file=sys.stderr)


class RefusalTest(BrokerCase):
    """One refusal per test: the client sees the reason, the broker logs it, the event log has it."""

    def assert_refused(self, token_value, reason):
        failed_before = socket_metric("failed-authentication-total")
        errors = []
        producer = confluent_kafka.Producer(client_config(lambda: token_value, errors))
        started = time.monotonic()
        auth_errors = []
        while not auth_errors and time.monotonic() - started < AUTH_WAIT_S:
            producer.poll(0.1)
            auth_errors = [e for e in errors if e.code() == confluent_kafka.KafkaError._AUTHENTICATION]
        waited = time.monotonic() - started
        del producer
        self.assertTrue(auth_errors, "no authentication failure within %d s; errors: %s"
                        % (AUTH_WAIT_S, [e.str() for e in errors]))
        self.assertIn("SASL authentication error: " + reason, auth_errors[0].str())
        self.assertIn("mskiam-validator: refused: " + reason, the_broker.log_text())
        self.assertTrue(any(e["reason"].startswith(reason) for e in the_broker.events("token_refused")),
                        the_broker.events("token_refused")[-3:])
        # Kafka counted it as its own failed authentication (the snapshot is written every 250 ms)
        self.assertTrue(wait_for(lambda: socket_metric("failed-authentication-total") > failed_before, 3),
                        the_broker.metrics())
        print("    refused in %.2f s: %s" % (waited, auth_errors[0].str()), file=sys.stderr)

    def test_wrong_region(self):
        self.assert_refused(token(region="eu-west-1", host=HOST),
                            "wrong region: token signed for eu-west-1, broker expects us-east-1")

    def test_wrong_host(self):
        self.assert_refused(token(host="kafka.us-east-1.amazonaws.com.example"),
                            "wrong host: token URL starts with 'https://kafka.us-east-1.amazonaws.com.example/?'"
                            ", broker expects 'https://kafka.us-east-1.amazonaws.com/?'")

    def test_expired_token(self):
        signed_at = int(time.time()) - 120  # within the 300 s skew, but its 60 s are over
        self.assert_refused(token(signed_at_s=signed_at, expires_s=60), "token expired: at ")

    def test_bad_signature(self):
        self.assert_refused(token(secret="not-the-registered-secret"),
                            "signature mismatch for access key id AKIDBROKERA")

    def test_unknown_access_key(self):
        self.assert_refused(token(key="AKIDNOBODY"), "unknown access key id AKIDNOBODY")

    def test_padded_base64(self):
        self.assert_refused(padded_token(), "token is padded base64url")

    def test_clock_skew(self):
        self.assert_refused(token(signed_at_s=int(time.time()) + 600), "clock skew: X-Amz-Date ")

    def test_expires_above_900(self):
        self.assert_refused(token(expires_s=901), "bad X-Amz-Expires: '901' is not an integer from 1 to 900")

    def test_expired_credentials(self):
        self.assert_refused(token(key="ASIAEXPIRED", session_token=SESSION_TOKEN),
                            "credentials expired: access key id ASIAEXPIRED expired at ")

    # Temporary credentials only with the session token they were issued with, as STS and MSK do.
    def test_temporary_credentials_without_their_session_token(self):
        self.assert_refused(token(key="ASIABROKERB"),
                            "access key id ASIABROKERB is temporary, but the token carries no session token")

    def test_temporary_credentials_with_a_stale_session_token(self):
        self.assert_refused(token(key="ASIABROKERB", session_token=SESSION_TOKEN + "-stale"),
                            "the session token does not match the one issued with access key id ASIABROKERB")

    def test_long_term_key_with_a_session_token(self):
        self.assert_refused(token(key="AKIDBROKERA", session_token=SESSION_TOKEN),
                            "access key id AKIDBROKERA is a long-term key, but the token carries a session token")

    def test_session_token_is_signed(self):
        good = token(key="ASIABROKERB", session_token=SESSION_TOKEN)
        url = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)).decode()
        forged = url.replace(urllib.parse.quote(SESSION_TOKEN, safe=""), "forged-session-token")
        self.assertNotEqual(forged, url)
        self.assert_refused(base64.urlsafe_b64encode(forged.encode()).rstrip(b"=").decode(),
                            "signature mismatch for access key id ASIABROKERB")


def raw_authenticate(token_value, port=None):
    """SaslHandshake v1 + SaslAuthenticate v1 on a bare socket -> (error code, message, session lifetime ms),
    the session lifetime being what Kafka grants: min(connections.max.reauth.ms, lifetimeMs - now)."""
    with socket.create_connection(("127.0.0.1", port or the_broker.port), timeout=10) as sock:
        def request(correlation, api_key, body):
            frame = struct.pack(">hhi", api_key, 1, correlation) + Writer().string("raw").value() + body
            sock.sendall(struct.pack(">i", len(frame)) + frame)
            size = struct.unpack(">i", read_exactly(sock, 4))[0]
            r = Reader(read_exactly(sock, size))
            assert r.int32() == correlation
            return r
        assert request(1, 17, Writer().string("OAUTHBEARER").value()).int16() == 0
        message = b"n,,\x01auth=Bearer " + token_value.encode() + b"\x01\x01"
        r = request(2, 36, Writer().bytes_(message).value())
        error, text = r.int16(), r.string()
        r.bytes_()
        return error, text, r.int64()


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed by the broker")
        data += chunk
    return data


class SessionLifetimeTest(BrokerCase):
    """The validator's lifetimeMs is the token's expiry capped by the credentials': Kafka derives the
    session lifetime it grants from it."""

    def test_capped_by_connections_max_reauth_ms(self):
        self.assertEqual(raw_authenticate(token()), (0, "", SESSION_LIFETIME_MS))

    def test_capped_by_token_expiry(self):
        error, _, lifetime = raw_authenticate(token(expires_s=2))
        self.assertEqual(error, 0)
        self.assertTrue(0 < lifetime <= 2000, lifetime)

    def test_capped_by_credentials_expiry_after_a_registry_change(self):
        registry = dict(REGISTRY, ASIASHORTLIVED={"secret_access_key": SECRET, "principal": PRINCIPAL_B,
                                                  "expiration_ms": int(time.time() * 1000) + 2500,
                                                  "session_token": SESSION_TOKEN})
        broker.write_atomically(the_broker.registry, json.dumps(registry))
        try:
            error, _, lifetime = raw_authenticate(token(key="ASIASHORTLIVED", session_token=SESSION_TOKEN))
        finally:
            broker.write_atomically(the_broker.registry, json.dumps(REGISTRY))
        self.assertEqual(error, 0)
        self.assertTrue(1000 < lifetime <= 2500, lifetime)
        self.assertEqual(the_broker.events("token_accepted")[-1]["expires_ms"],
                         registry["ASIASHORTLIVED"]["expiration_ms"])

    def test_refusal_is_sasl_authentication_failed_with_the_reason(self):
        error, text, _ = raw_authenticate(token(key="AKIDNOBODY"))
        self.assertEqual((error, text), (58, "unknown access key id AKIDNOBODY"))


class AcceptedTest(BrokerCase):
    def test_produce_consume_round_trip(self):
        succeeded_before = socket_metric("successful-authentication-total")
        errors, delivered = [], []
        producer = confluent_kafka.Producer(client_config(lambda: token(), errors))
        for i in range(3):
            producer.produce("round-trip", value=b"m%d" % i,
                             on_delivery=lambda err, msg: delivered.append(err))
        self.assertEqual(producer.flush(20), 0, [e.str() for e in errors])
        self.assertEqual(delivered, [None, None, None])

        consumer = confluent_kafka.Consumer(client_config(
            lambda: token(key="ASIABROKERB", session_token=SESSION_TOKEN), errors,
            **{"group.id": "round-trip", "auto.offset.reset": "earliest"}))
        consumer.subscribe(["round-trip"])
        received = []
        deadline = time.monotonic() + 30
        while len(received) < 3 and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                received.append(msg.value())
        consumer.close()
        self.assertEqual(sorted(received), [b"m0", b"m1", b"m2"])
        self.assertFalse([e for e in errors if e.code() == confluent_kafka.KafkaError._AUTHENTICATION])

        accepted = the_broker.events("token_accepted")
        self.assertIn(PRINCIPAL_A, [e["principal"] for e in accepted])
        b = [e for e in accepted if e["access_key_id"] == "ASIABROKERB"]
        self.assertTrue(b)
        # expiry = X-Amz-Date + 900 s, within the credentials' remaining hour
        self.assertEqual(b[-1]["expires_ms"], b[-1]["signed_at_ms"] + 900 * 1000)
        self.assertEqual(b[-1]["expires_ms"], b[-1]["token_expires_ms"])
        self.assertEqual(b[-1]["credentials_expire_ms"], REGISTRY["ASIABROKERB"]["expiration_ms"])
        self.assertTrue(b[-1]["session_token"])
        self.assertLessEqual(b[-1]["signed_at_ms"], b[-1]["ts_ms"])  # the token is reused on reconnects
        self.assertTrue(wait_for(lambda: socket_metric("successful-authentication-total")
                                 >= succeeded_before + 2, 3), the_broker.metrics())

    def test_session_expiry_disconnects_a_client_that_does_not_reauthenticate(self):
        """librdkafka 2.0.2 has no KIP-368: Kafka closes its connection at its first request after
        connections.max.reauth.ms; the client reconnects with a new authentication and goes on."""
        if confluent_kafka.libversion()[1] >= 0x02020000:
            self.skipTest("librdkafka %s re-authenticates" % confluent_kafka.libversion()[0])
        killed_before = socket_metric("expired-connections-killed-count")
        errors, delivered = [], []
        producer = confluent_kafka.Producer(client_config(lambda: token(), errors))
        producer.produce("expiry", value=b"before", on_delivery=lambda err, msg: delivered.append(err))
        self.assertEqual(producer.flush(20), 0)
        time.sleep(SESSION_LIFETIME_MS / 1000 + 0.5)
        producer.produce("expiry", value=b"after", on_delivery=lambda err, msg: delivered.append(err))
        self.assertEqual(producer.flush(20), 0)
        self.assertEqual(delivered, [None, None])
        self.assertTrue(wait_for(lambda: socket_metric("expired-connections-killed-count") > killed_before, 3),
                        the_broker.metrics())
        self.assertIn("Disconnecting expired channel", the_broker.log_text())


@unittest.skipIf(not shutil.which("openssl"), "needs openssl to make a certificate")
class TlsTest(BrokerCase):
    """A second broker whose SASL listener is SASL_SSL, with a PEM certificate for 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(work_dir, "tls")
        shutil.rmtree(cls.dir, ignore_errors=True)
        os.makedirs(cls.dir)
        cls.cert, key = (os.path.join(cls.dir, n) for n in ("cert.pem", "key.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cls.cert], check=True, capture_output=True)
        cls.broker = broker.KafkaBroker(os.path.join(cls.dir, "broker"), the_broker.registry, REGION,
                                        tls_cert=cls.cert, tls_key=key)
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def tls_config(self, token_for_call, errors):
        return client_config(token_for_call, errors, bootstrap=self.broker.bootstrap,
                             **{"security.protocol": "SASL_SSL", "ssl.ca.location": self.cert})

    def test_sasl_ssl_produce_and_refusal(self):
        self.assertEqual(self.broker.listener, "SASL_SSL")
        errors, delivered = [], []
        producer = confluent_kafka.Producer(self.tls_config(lambda: token(), errors))
        producer.produce("tls", value=b"over tls", on_delivery=lambda err, msg: delivered.append(err))
        self.assertEqual(producer.flush(20), 0, [e.str() for e in errors])
        self.assertEqual(delivered, [None])
        self.assertEqual(self.broker.events("token_accepted")[0]["principal"], PRINCIPAL_A)

        refused = confluent_kafka.Producer(self.tls_config(lambda: token(region="eu-west-1", host=HOST), errors))
        deadline = time.monotonic() + AUTH_WAIT_S
        while time.monotonic() < deadline and not any("wrong region" in e.str() for e in errors):
            refused.poll(0.1)
        self.assertTrue(any("SASL authentication error: wrong region: token signed for eu-west-1" in e.str()
                            for e in errors), [e.str() for e in errors])
        self.assertIn("mskiam-validator: refused: wrong region", self.broker.log_text())


# --------------------------------------------------------------------------------------------------
# librdkafka >= 2.2 (KIP-368), in a child process that loads it, when a build is available


def find_new_librdkafka():
    candidates = [os.environ.get("MSKIAM_RDKAFKA_PREFIX", ""),
                  os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                               "mskiam", "librdkafka-2.8.0")]
    for prefix in candidates:
        if prefix and os.path.exists(os.path.join(prefix, "lib", "librdkafka.so.1")):
            return os.path.join(prefix, "lib")
    return None


def reauth_child(bootstrap, tokens_path):
    """The first token is for principal A and said to live 3 s (librdkafka refreshes at 80 %), every
    later one for principal B: the re-authentication with B must be refused by Kafka."""
    errors, calls, delivered = [], [], []

    def oauth_cb(_config):
        calls.append(time.time())
        if len(calls) == 1:
            return token(), time.time() + 3
        return token(key="ASIABROKERB", session_token=SESSION_TOKEN), time.time() + 60

    producer = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
        "oauth_cb": oauth_cb, "error_cb": errors.append, "reconnect.backoff.max.ms": 1000})
    refused_at = None
    deadline = time.time() + 20
    while time.time() < deadline:
        producer.produce("reauth", value=b"v", on_delivery=lambda err, msg: delivered.append(err is None))
        producer.poll(0.2)
        if refused_at is None and any("Cannot change principals" in e.str() for e in errors):
            refused_at = len(delivered)
        if refused_at is not None and sum(delivered[refused_at:]) >= 3:
            break
    producer.flush(5)
    print(json.dumps({"libversion": confluent_kafka.libversion()[0], "errors": [e.str() for e in errors],
                      "delivered_after_refusal": sum(delivered[refused_at:]) if refused_at is not None else 0}))
    with open(tokens_path, "w") as f:  # for the no-secrets test; never printed (they hold session tokens)
        json.dump(tokens_made, f)


@unittest.skipIf(find_new_librdkafka() is None, "needs a librdkafka >= 2.2 build (scripts/build-librdkafka.sh)")
class Kip368Test(BrokerCase):
    def test_reauthentication_changing_principal_is_refused_by_kafka(self):
        reauth_before = socket_metric("successful-reauthentication-total")
        failed_before = socket_metric("failed-reauthentication-total")
        env = dict(os.environ, LD_LIBRARY_PATH=find_new_librdkafka())
        tokens_path = os.path.join(work_dir, "child-tokens.json")
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "reauth-child", the_broker.bootstrap,
                              tokens_path], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        with open(tokens_path) as f:
            tokens_made.extend(json.load(f))
        os.remove(tokens_path)
        if result["libversion"] < "2.2":
            self.skipTest("the child loaded librdkafka %s" % result["libversion"])
        expected = "Cannot change principals during re-authentication from IAM.%s: IAM.%s" % (PRINCIPAL_A,
                                                                                             PRINCIPAL_B)
        self.assertTrue(any(expected in e for e in result["errors"]), result["errors"])
        self.assertIn(expected, the_broker.log_text())
        self.assertGreaterEqual(result["delivered_after_refusal"], 3, result)  # recovers as B
        self.assertTrue(wait_for(lambda: socket_metric("failed-reauthentication-total") > failed_before, 3),
                        the_broker.metrics())
        # before the change, the session of 4 s was renewed on the same connection as A
        print("    re-authentications: %d successful, %d failed" % (
            socket_metric("successful-reauthentication-total") - reauth_before,
            socket_metric("failed-reauthentication-total") - failed_before), file=sys.stderr)


class CommandLineTest(BrokerCase):
    """broker.py started with the emulator's command line, as the e2e runner does: a port file, the work
    dir beside it, SIGTERM -> exit 0.
    Without --session-lifetime-ms, Kafka grants a session as long as the token."""

    def test_port_file_and_sigterm(self):
        d = os.path.join(work_dir, "cli")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        port_file, events = os.path.join(d, "port"), os.path.join(d, "events.jsonl")
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "broker.py"), "--port", "0",
                                 "--port-file", port_file, "--registry", the_broker.registry,
                                 "--events", events, "--region", REGION],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for(lambda: os.path.exists(port_file) or proc.poll() is not None, 60))
            self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
            with open(port_file) as f:
                port = int(f.read())
            bootstrap = "127.0.0.1:%d" % port
            error, _, lifetime = raw_authenticate(token(expires_s=600), port)
            self.assertEqual(error, 0)
            self.assertTrue(590 * 1000 < lifetime <= 600 * 1000, lifetime)
            errors = []
            producer = confluent_kafka.Producer(client_config(lambda: token(), errors, bootstrap=bootstrap))
            producer.produce("cli", value=b"v")
            self.assertEqual(producer.flush(20), 0, [e.str() for e in errors])
            del producer
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=40)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("kafka-broker listening on " + bootstrap, out)
        with open(events) as f:
            names = [json.loads(line)["event"] for line in f]
        self.assertEqual((names[0], names[-1]), ("broker_started", "broker_stopped"))
        self.assertIn("token_accepted", names)
        with open(os.path.join(d, "kafka-broker", "broker.log")) as f:
            self.assertIn("Kafka Server started", f.read())
        with open(os.path.join(d, "kafka-broker", "metrics.json")) as f:
            self.assertGreaterEqual(json.load(f)["socket_server"]["successful-authentication-total"], 1)


class ZzNoSecretsTest(BrokerCase):
    """Runs last (unittest sorts classes by name): every file the brokers wrote (logs, events, metrics,
    configuration, Kafka's data), searched for the secret, the session token and the tokens."""

    def test_no_secret_session_token_or_token_in_broker_output(self):
        self.assertTrue(tokens_made)
        outputs = {}
        for root, _, names in os.walk(work_dir):
            for name in names:
                path = os.path.join(root, name)
                if path == the_broker.registry:  # the secrets' source: the one file that must hold them
                    continue
                with open(path, "rb") as f:
                    outputs[os.path.relpath(path, work_dir)] = f.read().decode("utf-8", "replace")
        self.assertIn(os.path.join("broker", "broker.log"), outputs)
        encoded = [SECRET, SESSION_TOKEN, urllib.parse.quote(SESSION_TOKEN, safe="")]
        for name, text in outputs.items():
            for secret in encoded:
                self.assertNotIn(secret, text, "%s holds a secret" % name)
            for value in tokens_made:
                url = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8", "replace")
                signature = urllib.parse.parse_qs(url.split("?", 1)[-1]).get("X-Amz-Signature", [""])[0]
                self.assertNotIn(value[-64:], text, "%s holds a token" % name)
                if signature:
                    self.assertNotIn(signature, text, "%s holds a token's signature" % name)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "reauth-child":
        reauth_child(sys.argv[2], sys.argv[3])
        return 0
    try:
        broker.prepare()
    except Exception as e:  # noqa: BLE001  any failure to get Java, Maven or the jars
        if os.environ.get("MSKIAM_KAFKA_OPTIONAL") == "1":
            print("kafka broker tests skipped (MSKIAM_KAFKA_OPTIONAL=1): %s" % e, file=sys.stderr)
            return 77
        raise
    return 0 if unittest.main(exit=False).result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
