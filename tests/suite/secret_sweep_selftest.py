#!/usr/bin/python3
"""tests/secret_sweep.py must find a secret in every form a leak takes. Each case plants a build
directory with a registry (a secret access key and a session token shaped like STS's) and one
log holding one form of one secret, and expects the sweep to fail naming that log and form,
without printing the secret."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SWEEP = os.path.join(ROOT, "tests", "secret_sweep.py")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
import msk_emulator  # noqa: E402
import secret_sweep  # noqa: E402

ACCESS_KEY = "ASIAPLANTEDSWEEP0001"
SECRET_KEY = "pLaNtEd/sEcReT+kEy0123456789abcdefghijkl"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEpLaNtEd/SeSsIoN+tOkEn/" + "x+y/z=" * 20 + "=="


def token_embedding_session_token():
    return msk_emulator.presign_token(ACCESS_KEY, SECRET_KEY, "us-east-1", session_token=SESSION_TOKEN)[0]


def b64_of_json_with(secret):
    return base64.b64encode(json.dumps({"note": "x", "SecretAccessKey": secret}).encode()).decode()


PLANTED = [  # (form the sweep must name, the text planted in a log)
    ("raw", "credentials: " + SECRET_KEY),
    ("raw", "X-Amz-Security-Token: " + SESSION_TOKEN),
    ("percent-encoded", "GET /?X-Amz-Security-Token=" + urllib.parse.quote(SESSION_TOKEN, safe="") + "&x=1"),
    ("percent-encoded", "body: Secret=" + urllib.parse.quote_plus(SECRET_KEY)),
    ("JSON-escaped", json.dumps({"Token": SESSION_TOKEN}).replace("/", "\\/")),
    ("base64", "data: " + b64_of_json_with(SECRET_KEY)),
    ("base64", "k8s secret: " + b64_of_json_with("abc" + SESSION_TOKEN)),
    ("base64url", "auth=Bearer " + token_embedding_session_token()),
]


class SweepTest(unittest.TestCase):
    def plant(self, log_text=None, registry=True):
        root = tempfile.mkdtemp(prefix="mskiam-sweep-selftest-")
        self.addCleanup(subprocess.run, ["rm", "-rf", root])
        if registry:
            with open(os.path.join(root, "registry-planted.json"), "w") as f:
                json.dump({ACCESS_KEY: {"secret_access_key": SECRET_KEY, "session_token": SESSION_TOKEN,
                                        "principal": "p", "expiration_ms": None}}, f)
        with open(os.path.join(root, "clean.log"), "w") as f:
            f.write("nothing secret here: %s\n" % ACCESS_KEY)
        if log_text is not None:
            with open(os.path.join(root, "leaky.log"), "w") as f:
                f.write("before\n%s\nafter\n" % log_text)
        return root

    def sweep(self, root):
        return subprocess.run([sys.executable, SWEEP, root], capture_output=True, text=True, timeout=60)

    def test_clean_outputs_pass(self):
        done = self.sweep(self.plant())
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_every_planted_form_is_found(self):
        for form, text in PLANTED:
            with self.subTest(form=form, planted=text[:30]):
                done = self.sweep(self.plant(text))
                self.assertEqual(done.returncode, 1, done.stdout)
                self.assertRegex(done.stdout, r"found in \S*leaky\.log \([^)]*%s" % form)
                self.assertNotIn("clean.log", done.stdout)
                for secret in (SECRET_KEY, SESSION_TOKEN):
                    self.assertNotIn(secret, done.stdout + done.stderr)

    def test_a_run_whose_registries_did_not_reach_the_sweep_fails(self):
        done = self.sweep(self.plant(registry=False))
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("no registry", done.stdout)

    def test_every_fixed_secret_is_still_where_the_sweep_says(self):
        for secret, path in secret_sweep.FIXED_SECRETS.items():
            with self.subTest(path=path), open(os.path.join(ROOT, path)) as f:
                self.assertIn(secret, f.read(), "FIXED_SECRETS names a secret that %s no longer uses" % path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
