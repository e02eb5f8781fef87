#!/usr/bin/python3
"""mskiam-token against the loopback AWS fakes and the MSK-IAM broker emulator: every check
warning and failure, the exit codes, JSON output, the Prometheus output (parsed by Debian's
python3-prometheus-client, linted by promtool when installed), and that no secret reaches the
output.
Usage: test_mskiam_token.py PATH_TO_MSKIAM_TOKEN [unittest args]"""
import email.utils
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "emulator"))
import aws_fakes  # noqa: E402
import msk_emulator  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

BINARY = None
BASE_KEY, BASE_SECRET = "AKIABASECHECKTEST", "check-base-secret-value"
BASE_ARN = "arn:aws:iam::123456789012:user/checker"
ROLE = "arn:aws:iam::123456789012:role/MskRole"
OK, FAILED, USAGE, WARNING = 0, 1, 2, 3


class SkewedDateServer(http.server.ThreadingHTTPServer):
    """Answers every request with 403 and a Date header `offset_s` off this machine's clock."""

    def __init__(self, offset_s):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response_only(403)
                self.send_header("Date", email.utils.formatdate(time.time() - outer.offset_s, usegmt=True))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.offset_s = offset_s
        super().__init__(("127.0.0.1", 0), Handler)


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.registry = os.path.join(self.dir.name, "registry.json")
        self.fakes = aws_fakes.make_server(self.registry, base_credentials=[
            {"access_key_id": BASE_KEY, "secret_access_key": BASE_SECRET, "principal": BASE_ARN}])
        threading.Thread(target=self.fakes.serve_forever, daemon=True).start()
        self.sts = "http://127.0.0.1:%d" % self.fakes.server_address[1]
        self.emulator = msk_emulator.Emulator(self.registry, "us-east-1",
                                              events_path=os.path.join(self.dir.name, "events.jsonl"))
        self.emulator.start()
        self.broker = "127.0.0.1:%d" % self.emulator.port
        self.servers = []

    def tearDown(self):
        self.emulator.stop()
        self.fakes.shutdown()
        self.fakes.server_close()
        for s in self.servers:
            s.shutdown()
            s.server_close()
        self.keep_for_secret_sweep()
        self.dir.cleanup()

    def keep_for_secret_sweep(self):
        """The registry (every secret and session token issued), the emulator's events and every
        output of the tool go to MSKIAM_SECRET_SWEEP_DIR, for tests/secret_sweep.py."""
        sweep = os.environ.get("MSKIAM_SECRET_SWEEP_DIR")
        if not sweep:
            return
        os.makedirs(sweep, exist_ok=True)
        stem = os.path.join(sweep, "cli-%d-%s" % (os.getpid(), self._testMethodName))
        for name, dest in (("registry.json", os.path.join(sweep, "registry-" + os.path.basename(stem) + ".json")),
                           ("events.jsonl", stem + ".events.jsonl"), ("outputs.log", stem + ".outputs.log")):
            if os.path.exists(os.path.join(self.dir.name, name)):
                shutil.copyfile(os.path.join(self.dir.name, name), dest)

    def issued_secrets(self):
        """Every secret access key and session token the fakes issued so far."""
        try:
            with open(self.registry) as f:
                entries = json.load(f).values()
        except (OSError, ValueError):
            return []
        return [e[k] for e in entries for k in ("secret_access_key", "session_token") if e.get(k)]

    def run_tool(self, *args, env=None, expect=None, region="us-east-1"):
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir.name,
                "AWS_EC2_METADATA_DISABLED": "true"}
        base.update(env or {})
        region_args = ["--region", region] if region else []
        done = subprocess.run([BINARY, *region_args, *args], env=base, capture_output=True,
                              text=True, timeout=60)
        output = done.stdout + done.stderr
        self.stdout = done.stdout
        with open(os.path.join(self.dir.name, "outputs.log"), "a") as f:
            f.write(output)
        for secret in [BASE_SECRET, "web-identity-token-value"] + self.issued_secrets():
            self.assertNotIn(secret, output)
        if expect is not None:
            self.assertEqual(done.returncode, expect, output)
        return done.returncode, output

    def env_keys(self):
        return {"AWS_ACCESS_KEY_ID": BASE_KEY, "AWS_SECRET_ACCESS_KEY": BASE_SECRET}

    def check_json(self, *args, env=None, expect=None, region="us-east-1"):
        code, output = self.run_tool("--check", "--json", "--sts-endpoint", self.sts, *args, env=env,
                                     expect=expect, region=region)
        return json.loads(output.splitlines()[0])

    def test_pinned_role_and_broker_accepting_the_token_is_ok(self):
        report = self.check_json("--role-arn", ROLE, "--session-name", "orders", "--broker", self.broker,
                                 "--plaintext", env=self.env_keys(), expect=OK)
        self.assertEqual(report["status"], "ok")
        self.assertEqual(report["source"], "assume_role")
        self.assertEqual(report["principal"], "arn:aws:sts::123456789012:assumed-role/MskRole/orders")
        self.assertTrue(report["broker"]["authenticated"])
        self.assertGreater(report["broker"]["session_lifetime_ms"], 0)
        self.assertLess(abs(report["clock_offset_s"]), 5)
        self.assertEqual(report["warnings"], [])

    def test_whoami_asks_sts_for_the_principal(self):
        report = self.check_json("--whoami", env=self.env_keys(), expect=OK)
        self.assertEqual(report["principal"], BASE_ARN)
        self.assertEqual(report["principal_from"], "GetCallerIdentity")

    def test_pod_identity_warns_that_the_session_name_is_not_pinned(self):
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.sts + "/pod-identity"}
        report = self.check_json(env=env, expect=WARNING)
        self.assertEqual(report["source"], "container")
        self.assertTrue(any(w.startswith("session_name_unpinned") for w in report["warnings"]), report)

    def test_pod_identity_chained_into_a_fixed_name_is_ok(self):
        env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.sts + "/pod-identity"}
        report = self.check_json("--role-arn", ROLE, "--session-name", "pinned", env=env, expect=OK)
        self.assertTrue(report["principal"].endswith("/MskRole/pinned"))

    def test_web_identity_without_a_fixed_name_warns_about_the_default(self):
        token_file = os.path.join(self.dir.name, "token")
        with open(token_file, "w") as f:
            f.write("web-identity-token-value")
        env = {"AWS_WEB_IDENTITY_TOKEN_FILE": token_file, "AWS_ROLE_ARN": ROLE}
        report = self.check_json(env=env, expect=WARNING)
        self.assertEqual(report["source"], "web_identity")
        self.assertTrue(any(w.startswith("session_name_default") for w in report["warnings"]), report)
        pinned = self.check_json("--session-name", "pinned", env=env, expect=OK)
        self.assertTrue(pinned["principal"].endswith("/pinned"))

    def test_credentials_expiring_within_a_token_lifetime_warn(self):
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
        env = dict(self.env_keys(), AWS_SESSION_TOKEN="session", AWS_CREDENTIAL_EXPIRATION=expiration)
        report = self.check_json(env=env, expect=WARNING)
        self.assertTrue(any(w.startswith("credentials_expiring") for w in report["warnings"]), report)

    def test_region_of_the_brokers_must_match_the_signing_region(self):
        report = self.check_json("--bootstrap",
                                 "b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9098,"
                                 "b-2.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9098",
                                 env=self.env_keys(), expect=WARNING)
        self.assertEqual(len([w for w in report["warnings"] if w.startswith("region_mismatch")]), 2)
        self.check_json("--bootstrap", "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9098",
                        env=self.env_keys(), expect=OK)

    def test_bootstrap_gives_the_region_without_region(self):
        # The cluster name looks like another region: the region is the host names' suffix.
        brokers = ("b-1.us-west-2-orders.abc123.c3.kafka.eu-west-1.amazonaws.com:9098, "
                   "b-2-public.us-west-2-orders.abc123.c3.kafka.eu-west-1.amazonaws.com:9198")
        env = dict(self.env_keys(), AWS_REGION="ap-south-1")  # the brokers come first
        code, output = self.run_tool("--decode", "--bootstrap", brokers, env=env, expect=OK, region=None)
        self.assertIn("url:        https://kafka.eu-west-1.amazonaws.com/?", output)
        self.assertIn("%2Feu-west-1%2Fkafka-cluster%2Faws4_request", output)
        report = self.check_json("--bootstrap", brokers, env=env, expect=OK, region=None)
        self.assertEqual(report["warnings"], [])
        china = self.check_json("--bootstrap", "boot-x.c1.kafka-serverless.cn-north-1.amazonaws.com.cn:9098",
                                env=self.env_keys(), expect=OK, region=None)
        self.assertEqual(china["warnings"], [])

    def test_bootstrap_without_a_region_is_refused_naming_the_host(self):
        code, output = self.run_tool("--bootstrap", "127.0.0.1:9098", env=self.env_keys(),
                                     expect=USAGE, region=None)
        self.assertIn("--bootstrap: invalid_argument: broker \"127.0.0.1:9098\" is not an MSK broker "
                      "host name", output)
        code, output = self.run_tool("--bootstrap", "b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098,"
                                     "b-1.o.abc.c3.kafka.us-east-1.amazonaws.com:9098",
                                     env=self.env_keys(), expect=USAGE, region=None)
        self.assertIn("the brokers are in more than one region", output)
        code, output = self.run_tool("--bootstrap", " , ", env=self.env_keys(), expect=USAGE, region=None)
        self.assertIn("names no broker", output)
        # --region wins, and then a test broker's host name is no error.
        self.run_tool("--bootstrap", "127.0.0.1:9098", env=self.env_keys(), expect=OK)

    def test_check_warns_about_ports_that_are_not_msk_iam_listeners(self):
        host = "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com"
        report = self.check_json("--bootstrap", "%s:9098,[2001:db8::1]:20098,%s:9092,%s" % (host, host, host),
                                 env=self.env_keys(), expect=WARNING)
        ports = [w for w in report["warnings"] if w.startswith("port_not_iam")]
        self.assertEqual(len(ports), 2, report)
        self.assertIn("broker %s:9092 uses port 9092" % host, ports[0])
        self.assertIn("broker %s has no port" % host, ports[1])
        self.assertEqual(len(report["warnings"]), 2, report)

    def test_clock_skew_warns_then_fails(self):
        for offset, expected, prefix in ((120, WARNING, "clock_skew"), (600, FAILED, "clock_skew")):
            server = SkewedDateServer(offset)
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            endpoint = "http://127.0.0.1:%d" % server.server_address[1]
            code, output = self.run_tool("--check", "--json", "--sts-endpoint", endpoint,
                                         env=self.env_keys(), expect=expected)
            report = json.loads(output.splitlines()[0])
            self.assertAlmostEqual(report["clock_offset_s"], offset, delta=3)
            self.assertTrue(any(x.startswith(prefix) for x in report["warnings"] + report["failures"]))

    def test_broker_refusing_the_token_fails(self):
        env = {"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNTOBROKER", "AWS_SECRET_ACCESS_KEY": BASE_SECRET}
        report = self.check_json("--broker", self.broker, "--plaintext", env=env, expect=FAILED)
        self.assertFalse(report["broker"]["authenticated"])
        self.assertIn("unknown access key id", report["broker"]["error"])

    def test_no_credentials_fails_and_names_every_source_tried(self):
        code, output = self.run_tool("--check", expect=FAILED)
        for source in ("environment", "profile", "web_identity", "imds"):
            self.assertIn(source + ": not_configured", output)

    def test_plain_token_json_and_decode(self):
        code, output = self.run_tool("--json", env=self.env_keys(), expect=OK)
        doc = json.loads(output)
        self.assertEqual(doc["source"], "environment")
        self.assertGreater(doc["expires_at_ms"], time.time() * 1000)
        code, output = self.run_tool("--decode", env=dict(self.env_keys(), AWS_SESSION_TOKEN="visible-nowhere"),
                                     expect=OK)
        self.assertIn("X-Amz-Signature=%3Credacted%3E", output)
        self.assertNotIn("visible-nowhere", output)

    def check_prometheus(self, *args, env=None, expect=None, sts=None):
        """The exposition --check --prometheus writes, parsed: {family: (type, [(name, labels,
        value)])}; promtool lints it too when installed (scripts/setup.sh installs it)."""
        self.run_tool("--check", "--prometheus", "--sts-endpoint", sts or self.sts, *args, env=env,
                      expect=expect)
        text = self.stdout
        families = {}
        for family in text_string_to_metric_families(text):
            self.assertNotIn(family.name, families, "a family written twice")
            families[family.name] = (family.type, [(s.name, s.labels, s.value) for s in family.samples])
        if shutil.which("promtool"):
            lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        return families

    def value(self, families, name):
        samples = families[name][1]
        self.assertEqual(len(samples), 1, samples)
        return samples[0][2]

    def problems(self, families):
        return {(labels["kind"], labels["severity"])
                for _, labels, _ in families.get("mskiam_check_problem", ("gauge", []))[1]}

    def test_prometheus_metrics_of_a_pinned_role(self):
        label = 'orders "api" \\ east\nline'
        families = self.check_prometheus("--role-arn", ROLE, "--session-name", "orders",
                                         "--label", "client=" + label, "--label", "env=prod",
                                         env=self.env_keys(), expect=OK)
        self.assertEqual({n: t for n, (t, _) in families.items()}, {
            "mskiam_credential_fetches": "counter", "mskiam_credential_fetch_failures": "counter",
            "mskiam_principal_changes": "counter", "mskiam_tokens_signed": "counter",
            "mskiam_credentials_expiry_seconds": "gauge", "mskiam_token_expiry_seconds": "gauge",
            "mskiam_last_success_age_seconds": "gauge", "mskiam_refresh_failing": "gauge",
            "mskiam_token_lifetime_seconds": "gauge", "mskiam_clock_offset_seconds": "gauge",
            "mskiam_provider_info": "gauge"})
        for _, samples in families.values():
            for _, labels, _ in samples:
                self.assertEqual(labels["client"], label)  # escaped, then parsed back
                self.assertEqual(labels["env"], "prod")
        self.assertEqual(families["mskiam_credential_fetches"][1][0][0],
                         "mskiam_credential_fetches_total")
        self.assertEqual(self.value(families, "mskiam_credential_fetches"), 1)
        self.assertEqual(self.value(families, "mskiam_credential_fetch_failures"), 0)
        self.assertEqual(self.value(families, "mskiam_tokens_signed"), 1)
        self.assertEqual(self.value(families, "mskiam_refresh_failing"), 0)
        self.assertEqual(self.value(families, "mskiam_token_lifetime_seconds"), 900)
        self.assertAlmostEqual(self.value(families, "mskiam_token_expiry_seconds"), 900, delta=5)
        self.assertGreater(self.value(families, "mskiam_credentials_expiry_seconds"), 900)
        self.assertLess(self.value(families, "mskiam_last_success_age_seconds"), 5)
        self.assertLess(abs(self.value(families, "mskiam_clock_offset_seconds")), 5)
        info = families["mskiam_provider_info"][1][0][1]
        self.assertEqual(info["principal"], "arn:aws:sts::123456789012:assumed-role/MskRole/orders")
        self.assertEqual(info["source"], "assume_role")
        self.assertNotIn("mskiam_check_problem", families)

    def test_prometheus_problems_expiring_credentials_and_clock_skew(self):
        server = SkewedDateServer(120)
        self.servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
        env = dict(self.env_keys(), AWS_SESSION_TOKEN="session", AWS_CREDENTIAL_EXPIRATION=expiration)
        families = self.check_prometheus(env=env, expect=WARNING,
                                         sts="http://127.0.0.1:%d" % server.server_address[1])
        self.assertEqual(self.problems(families),
                         {("credentials_expiring", "warning"), ("clock_skew", "warning")})
        self.assertAlmostEqual(self.value(families, "mskiam_clock_offset_seconds"), 120, delta=3)
        self.assertAlmostEqual(self.value(families, "mskiam_credentials_expiry_seconds"), 600, delta=5)
        self.assertLess(self.value(families, "mskiam_credentials_expiry_seconds"),
                        self.value(families, "mskiam_token_lifetime_seconds"))

    def test_prometheus_without_credentials_reports_the_failure(self):
        families = self.check_prometheus(expect=FAILED)
        self.assertEqual(self.problems(families), {("no_token", "failure")})
        self.assertEqual(self.value(families, "mskiam_refresh_failing"), 1)
        self.assertEqual(self.value(families, "mskiam_credential_fetch_failures"), 1)
        self.assertEqual(self.value(families, "mskiam_tokens_signed"), 0)
        self.assertNotIn("mskiam_last_success_age_seconds", families)
        self.assertNotIn("mskiam_credentials_expiry_seconds", families)

    def test_prometheus_usage_errors(self):
        self.run_tool("--prometheus", expect=USAGE)  # only with --check
        self.run_tool("--check", "--prometheus", "--json", expect=USAGE)
        self.run_tool("--check", "--label", "client=x", expect=USAGE)  # only with --prometheus
        for label in ("bad-name=x", "__name__=x", "source=x", "kind=x", "novalue"):
            code, output = self.run_tool("--check", "--prometheus", "--label", label, expect=USAGE)
            self.assertIn("label", output)

    def test_a_region_that_cannot_exist_is_refused_naming_where_it_came_from(self):
        code, output = self.run_tool("--region", "useast1", env=self.env_keys(), expect=USAGE)
        self.assertIn('region "useast1" (from --region) is malformed', output)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir.name,
               "AWS_DEFAULT_REGION": "eu-west1", **self.env_keys()}
        done = subprocess.run([BINARY], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, USAGE, done.stderr)
        self.assertIn('region "eu-west1" (from AWS_DEFAULT_REGION) is malformed', done.stderr)
        self.assertEqual(done.stdout, "")

    def test_usage_errors(self):
        self.run_tool("--bogus", expect=USAGE)
        self.run_tool("--broker", "x:1", expect=USAGE)  # only with --check
        self.run_tool("--lifetime", "abc", expect=USAGE)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
