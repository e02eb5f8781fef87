#!/usr/bin/python3
"""The alert rules of docs/alerts.md, tested with promtool on metrics that mskiam wrote: every
simulated minute of mskiam-alert-scenarios (a provider under a fake clock through each outage)
and the output of `mskiam-token --check --prometheus` against the loopback fakes, repeated as a
textfile collector would expose it. Each scenario says which alerts fire at which minute, and
every other alert is checked not to fire; every rule must fire in some scenario.
Usage: test_alerts.py MSKIAM_ALERT_SCENARIOS MSKIAM_TOKEN [unittest args]"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import yaml
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import test_mskiam_token as cli  # noqa: E402  (its fakes and its skewed Date server)

SCENARIOS = TOKEN = None
CLI_MINUTES = 10  # a textfile written once, scraped every minute

# scenario -> {eval minute: {alert that fires: labels of the alert beyond scenario and severity}}.
# At every listed minute, every alert not listed is expected not to fire.
EXPECTED = {
    "healthy": {30: {}, 100: {}, 170: {}},
    "principal_changed": {35: {}, 45: {"MskiamPrincipalChanged": {}}, 70: {}},
    "refresh_failing": {110: {}, 125: {}, 135: {"MskiamRefreshFailing": {}}, 160: {}},
    "sts_down": {
        30: {},
        47: {"MskiamCredentialsExpiring": {}},
        52: {"MskiamCredentialsExpiring": {}, "MskiamRefreshFailing": {}},
        65: {"MskiamCredentialsExpiring": {}, "MskiamRefreshFailing": {},
             "MskiamTokenNotRefreshed": {}},
    },
    "token_never_refreshed": {10: {}, 20: {"MskiamTokenNotRefreshed": {}}},
    "never_signed": {1: {}, 5: {"MskiamTokenNotRefreshed": {}}},
    "cli_healthy": {5: {}},
    "cli_clock_skew": {5: {"MskiamClockSkew": {}}},
    "cli_pod_identity": {5: {"MskiamPrincipalChanged": {"kind": "session_name_unpinned"}}},
}


def rules_of_alerts_md():
    """The one yaml block of docs/alerts.md."""
    text = open(os.path.join(ROOT, "docs", "alerts.md")).read()
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) == 1, "docs/alerts.md must hold exactly one yaml block: the rule file"
    return blocks[0]


def parse(text):
    """{(sample name, sorted labels): value} of one exposition, read by prometheus_client."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def series_name(name, labels):
    quoted = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                      for k, v in labels)
    return "%s{%s}" % (name, quoted)


def input_series(minutes):
    """promtool input series from one exposition per minute; `_` where a sample is absent."""
    keys = sorted({k for m in minutes for k in m})
    return [{"series": series_name(*k),
             "values": " ".join(repr(m[k]) if k in m else "_" for m in minutes)} for k in keys]


class AlertRulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.promtool = shutil.which("promtool")
        if cls.promtool is None:
            raise AssertionError("promtool not found: scripts/setup.sh installs Debian's prometheus")
        cls.dir = tempfile.TemporaryDirectory()
        cls.rules_path = os.path.join(cls.dir.name, "mskiam-rules.yml")
        with open(cls.rules_path, "w") as f:
            f.write(rules_of_alerts_md())
        cls.rules = {r["alert"]: r for g in yaml.safe_load(rules_of_alerts_md())["groups"]
                     for r in g["rules"]}

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_rules_are_valid(self):
        done = subprocess.run([self.promtool, "check", "rules", self.rules_path],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(sorted(self.rules), sorted(
            ["MskiamPrincipalChanged", "MskiamCredentialsExpiring", "MskiamRefreshFailing",
             "MskiamClockSkew", "MskiamTokenNotRefreshed"]))

    def test_every_rule_fires_in_a_scenario(self):
        fired = {a for evals in EXPECTED.values() for alerts in evals.values() for a in alerts}
        self.assertEqual(fired, set(self.rules))

    def test_each_scenario_fires_what_it_triggers_and_nothing_else(self):
        scenarios = dict(self.simulated_scenarios())
        scenarios.update(self.cli_scenarios())
        self.assertEqual(sorted(scenarios), sorted(EXPECTED))
        tests = []
        for name, minutes in sorted(scenarios.items()):
            tests.append({"name": name, "interval": "1m", "input_series": input_series(minutes),
                          "alert_rule_test": self.alert_tests(name)})
        test_path = os.path.join(self.dir.name, "mskiam-rules-test.json")
        with open(test_path, "w") as f:  # JSON is YAML: promtool reads it as its test file
            json.dump({"rule_files": [self.rules_path], "evaluation_interval": "1m",
                       "tests": tests}, f, indent=1)
        done = subprocess.run([self.promtool, "test", "rules", test_path], capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def alert_tests(self, scenario):
        out = []
        for minute, firing in sorted(EXPECTED[scenario].items()):
            for alert, rule in sorted(self.rules.items()):
                expected = []
                if alert in firing:
                    labels = dict(firing[alert], scenario=scenario, **rule.get("labels", {}))
                    expected.append({"exp_labels": labels,
                                     "exp_annotations": rule.get("annotations", {})})
                out.append({"alertname": alert, "eval_time": "%dm" % minute,
                            "exp_alerts": expected})
        return out

    def simulated_scenarios(self):
        """{scenario: [exposition of minute 0, 1, ...]} from mskiam-alert-scenarios."""
        done = subprocess.run([SCENARIOS], capture_output=True, text=True, timeout=120, check=True)
        parts = re.split(r"^# scenario (\S+) minute (\d+)\n", done.stdout, flags=re.M)
        scenarios = {}
        for name, minute, text in zip(parts[1::3], parts[2::3], parts[3::3]):
            self.assertNotIn("scenario-secret", text)
            scenarios.setdefault(name, []).append(parse(text))
            self.assertEqual(len(scenarios[name]) - 1, int(minute))
        return scenarios

    def cli_scenarios(self):
        """mskiam-token --check --prometheus against the fakes: healthy, a clock 120 s off STS,
        EKS Pod Identity credentials (a session name the server picks)."""
        harness = cli.CheckTest("run_tool")
        cli.BINARY = TOKEN
        harness.setUp()
        try:
            skewed = cli.SkewedDateServer(120)
            harness.servers.append(skewed)
            threading.Thread(target=skewed.serve_forever, daemon=True).start()
            runs = {
                "cli_healthy": (harness.sts, harness.env_keys(), ["--role-arn", cli.ROLE,
                                                                  "--session-name", "orders"]),
                "cli_clock_skew": ("http://127.0.0.1:%d" % skewed.server_address[1],
                                   harness.env_keys(), []),
                "cli_pod_identity": (harness.sts, {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
                                                   harness.sts + "/pod-identity"}, []),
            }
            scenarios = {}
            for name, (sts, env, args) in runs.items():
                harness.run_tool("--check", "--prometheus", "--sts-endpoint", sts,
                                 "--label", "scenario=" + name, *args, env=env)
                scenarios[name] = [parse(harness.stdout)] * (CLI_MINUTES + 1)
            return scenarios
        finally:
            harness.tearDown()


if __name__ == "__main__":
    SCENARIOS = os.path.abspath(sys.argv.pop(1))
    TOKEN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
