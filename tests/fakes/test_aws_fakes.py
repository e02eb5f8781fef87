"""Tests of aws_fakes.py. Run: /usr/bin/python3 -m unittest discover -s tests/fakes -v"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings
import urllib.error
import urllib.parse
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # do not leave __pycache__ in the emulator directory
sys.path.insert(0, HERE)
import aws_fakes  # noqa: E402

BASE_AKID = "AKIDBASEEXAMPLE0001"
BASE_SECRET = "base/secret+EXAMPLE/KEY0000000000000000"
BASE_ARN = "arn:aws:iam::123456789012:user/base"
ROLE = "arn:aws:iam::123456789012:role/MskRole"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.web-identity-token-EXAMPLE.sig"


class FakeCase(unittest.TestCase):
    config = None

    def setUp(self):
        warnings.simplefilter("ignore", ResourceWarning)  # botocore clients keep pooled sockets open
        self.dir = tempfile.mkdtemp(prefix="aws-fakes-test-")
        self.reg = os.path.join(self.dir, "reg.json")
        self.logf = os.path.join(self.dir, "log.jsonl")
        self.srv = aws_fakes.make_server(
            self.reg, self.logf, 0, self.config,
            [{"access_key_id": BASE_AKID, "secret_access_key": BASE_SECRET, "principal": BASE_ARN}])
        self.thread = threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port

    def tearDown(self):
        self.srv.state.stop.set()
        self.srv.shutdown()
        self.srv.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # helpers ---------------------------------------------------------------------------------------
    def sts(self, akid=BASE_AKID, secret=BASE_SECRET, token=None, region="us-east-1"):
        s = botocore.session.get_session()
        cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=5,
                                     connect_timeout=2)
        return s.create_client("sts", region_name=region, endpoint_url=self.url, aws_access_key_id=akid,
                               aws_secret_access_key=secret, aws_session_token=token, config=cfg)

    def control(self, obj):
        req = urllib.request.Request(self.url + "/_control", data=json.dumps(obj).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def http(self, method, path, headers=None, body=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            c.close()

    def form(self, params, headers=None):
        h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        h.update(headers or {})
        st, data, _ = self.http("POST", "/", h, urllib.parse.urlencode(params))
        return st, data

    def registry(self):
        with open(self.reg) as f:
            return json.load(f)

    def log(self):
        if not os.path.exists(self.logf):  # created by the first request logged
            return []
        with open(self.logf) as f:
            return [json.loads(line) for line in f]

    def assume(self, client=None, **kw):
        kw.setdefault("RoleArn", ROLE)
        kw.setdefault("RoleSessionName", "msk-static-session")
        return (client or self.sts()).assume_role(**kw)


class StsTest(FakeCase):
    def test_get_caller_identity_botocore(self):
        r = self.sts().get_caller_identity()
        self.assertEqual(r["Arn"], BASE_ARN)
        self.assertEqual(r["Account"], "123456789012")
        self.assertEqual(self.log()[-1]["signature"], "verified")

    def test_assume_role_botocore_and_registry(self):
        t0 = time.time()
        r = self.assume(DurationSeconds=1800, ExternalId="123ABC")
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session")
        self.assertAlmostEqual(c["Expiration"].timestamp(), t0 + 1800, delta=3)
        reg = self.registry()
        self.assertEqual(reg[c["AccessKeyId"]]["secret_access_key"], c["SecretAccessKey"])
        self.assertEqual(reg[c["AccessKeyId"]]["principal"], r["AssumedRoleUser"]["Arn"])
        self.assertEqual(reg[c["AccessKeyId"]]["expiration_ms"], int(c["Expiration"].timestamp() * 1000))
        self.assertIn(BASE_AKID, reg)
        line = self.log()[-1]
        self.assertEqual((line["action"], line["role_session_name"], line["role_arn"], line["duration_seconds"],
                          line["external_id"], line["signature"], line["status"]),
                         ("AssumeRole", "msk-static-session", ROLE, "1800", "123ABC", "verified", 200))
        # The issued credentials can sign in turn (role chaining), session token required.
        chained = self.sts(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], region="eu-west-1")
        self.assertEqual(chained.get_caller_identity()["Arn"], r["AssumedRoleUser"]["Arn"])
        with self.assertRaises(ClientError) as e:
            self.assume(chained, DurationSeconds=7200)
        self.assertIn("role chaining", str(e.exception))
        no_token = self.sts(c["AccessKeyId"], c["SecretAccessKey"])
        with self.assertRaises(ClientError) as e:
            no_token.get_caller_identity()
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_wrong_secret_and_unknown_key(self):
        with self.assertRaises(ClientError) as e:
            self.assume(self.sts(secret="wrong"))
        self.assertEqual(e.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        with self.assertRaises(ClientError) as e:
            self.sts(akid="AKIDUNKNOWN").get_caller_identity()
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")
        self.assertEqual([x["signature"] for x in self.log()], ["mismatch", "unknown_key"])

    def _signed(self, body, tamper=None, token=None, method="POST", query=""):
        req = AWSRequest(method=method, url="%s/%s" % (self.url, query), data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        if token:
            req.headers["X-Amz-Security-Token"] = token
        SigV4Auth(Credentials(BASE_AKID, BASE_SECRET), "sts", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        if tamper:
            tamper(headers)
        st, data, _ = self.http(method, "/" + query, headers, body)
        return st, data.decode()

    def test_tampered_signature_and_body(self):
        body = "Action=GetCallerIdentity&Version=2011-06-15"
        st, data = self._signed(body)
        self.assertEqual(st, 200, data)

        def flip(h):
            a = h["Authorization"]
            h["Authorization"] = a[:-1] + ("0" if a[-1] != "0" else "1")
        st, data = self._signed(body, flip)
        self.assertEqual(st, 403)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", data)
        self.assertIn('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">', data)
        # Body changed after signing.
        req = AWSRequest(method="POST", url=self.url + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(BASE_AKID, BASE_SECRET), "sts", "us-east-1").add_auth(req)
        st, data, _ = self.http("POST", "/", dict(req.headers.items()), body + "&X=1")
        self.assertEqual(st, 403)
        # Wrong service in the scope.
        req = AWSRequest(method="POST", url=self.url + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(BASE_AKID, BASE_SECRET), "kafka-cluster", "us-east-1").add_auth(req)
        st, data, _ = self.http("POST", "/", dict(req.headers.items()), body)
        self.assertEqual(st, 403)
        self.assertIn("correct service", data.decode())
        # No Authorization at all.
        st, data = self.form({"Action": "GetCallerIdentity", "Version": "2011-06-15"})
        self.assertEqual(st, 403)
        self.assertIn("MissingAuthenticationToken", data.decode())

    def test_published_vectors(self):
        # credentials.md section 2.6: AssumeRole as botocore 1.43.11 signs it, at a fixed time.
        self.control({"config": {"sts": {"max_skew_s": 0}},
                      "base_credentials": [{"access_key_id": "AKIDEXAMPLE",
                                            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}]})
        body = ("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FMskRole"
                "&RoleSessionName=msk-static-session")
        headers = {"Host": "sts.us-east-1.amazonaws.com", "X-Amz-Date": "20231114T221320Z",
                   "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        cred = "Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request"
        sig = "1311b4ba0af0b9cd7db967dbd672d1b1e9e673dcd52287d6eae89a1af10b9e39"
        h = dict(headers, Authorization="AWS4-HMAC-SHA256 %s, SignedHeaders=content-type;host;x-amz-date, "
                                        "Signature=%s" % (cred, sig))
        st, data, _ = self.http("POST", "/", h, body)
        self.assertEqual(st, 200, data)
        self.assertIn(b"assumed-role/MskRole/msk-static-session</Arn>", data)
        h["Authorization"] = h["Authorization"].replace(sig, sig[::-1])
        self.assertEqual(self.http("POST", "/", h, body)[0], 403)
        # Same with a session token, signed as X-Amz-Security-Token.
        self.control({"base_credentials": [{"access_key_id": "AKIDEXAMPLE",
                                            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                            "session_token": "IQoJb3JpZ2luX2VjEXAMPLE/+=token"}]})
        sig = "05be324f728080e4a67e5c63169bc46c590e033d4e8b193a5163cfef4e5b3554"
        h = dict(headers, **{"X-Amz-Security-Token": "IQoJb3JpZ2luX2VjEXAMPLE/+=token",
                             "Authorization": "AWS4-HMAC-SHA256 %s, SignedHeaders=content-type;host;x-amz-date;"
                                              "x-amz-security-token, Signature=%s" % (cred, sig)})
        st, data, _ = self.http("POST", "/", h, body)
        self.assertEqual(st, 200, data)
        # The request is old: with the default skew check it is refused.
        self.control({"config": {"sts": {"max_skew_s": 900}}})
        st, data, _ = self.http("POST", "/", h, body)
        self.assertEqual(st, 400)
        self.assertIn(b"RequestExpired", data)

    def test_signed_get_with_query(self):
        q = "?" + urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": ROLE,
                                          "RoleSessionName": "get-session"})
        st, data = self._signed(b"", method="GET", query=q)
        self.assertEqual(st, 200, data)
        self.assertIn("assumed-role/MskRole/get-session</Arn>", data)

    def test_signed_session_token_header(self):
        st, data = self._signed("Action=GetCallerIdentity&Version=2011-06-15", token="unexpected")
        self.assertEqual(st, 403)
        self.assertIn("InvalidClientTokenId", data)

    def test_session_name_and_duration_validation(self):
        for name in ("a", "x" * 65, "bad name", "slash/name"):
            st, data = self.form({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
                                  "RoleSessionName": name, "WebIdentityToken": WEB_TOKEN})
            self.assertEqual(st, 400, name)
            self.assertIn("<Code>ValidationError</Code>", data.decode())
        for d in ("899", "43201", "abc"):
            st, data = self.form({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
                                  "RoleSessionName": "ok-name", "WebIdentityToken": WEB_TOKEN,
                                  "DurationSeconds": d})
            self.assertEqual(st, 400, d)
            self.assertIn("ValidationError", data.decode())
        st, data = self.form({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
                              "RoleSessionName": "a_+=,.@-" + "z" * 56, "WebIdentityToken": WEB_TOKEN,
                              "DurationSeconds": "900"})
        self.assertEqual(st, 200, data)
        self.control({"config": {"sts": {"role_max_session_duration_s": 3600}}})
        with self.assertRaises(ClientError) as e:
            self.assume(DurationSeconds=7200)
        self.assertIn("MaxSessionDuration", str(e.exception))
        st, data = self.form({"Action": "Nope", "Version": "2011-06-15"})
        self.assertEqual(st, 400)
        self.assertIn("InvalidAction", data.decode())

    def test_web_identity_unsigned_botocore(self):
        tokfile = os.path.join(self.dir, "token")
        with open(tokfile, "w") as f:
            f.write(WEB_TOKEN + "\n")
        self.control({"config": {"sts": {"expected_web_identity_token_file": tokfile}}})
        s = botocore.session.get_session()
        c = s.create_client("sts", region_name="us-east-1", endpoint_url=self.url,
                            config=botocore.config.Config(signature_version=botocore.UNSIGNED,
                                                          retries={"total_max_attempts": 1}))
        r = c.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="irsa", WebIdentityToken=WEB_TOKEN)
        self.assertEqual(r["AssumedRoleUser"]["Arn"], "arn:aws:sts::123456789012:assumed-role/MskRole/irsa")
        self.assertIn(r["Credentials"]["AccessKeyId"], self.registry())
        with self.assertRaises(ClientError) as e:
            c.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="irsa", WebIdentityToken="wrong-token")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidIdentityToken")
        self.assertEqual([x.get("web_identity_token") for x in self.log()], ["matched", "mismatch"])
        # The token file is re-read: rotate it.
        with open(tokfile, "w") as f:
            f.write("rotated-token")
        c.assume_role_with_web_identity(RoleArn=ROLE, RoleSessionName="irsa", WebIdentityToken="rotated-token")

    def test_lifetime_override_and_layouts(self):
        self.control({"config": {"credential_lifetime_s": 20,
                                 "sts": {"single_line_session_token": False, "reorder_credentials": True}}})
        t0 = time.time()
        r = self.assume()
        self.assertAlmostEqual(r["Credentials"]["Expiration"].timestamp(), t0 + 20, delta=2)
        self.assertFalse(r["Credentials"]["SessionToken"].startswith("IQ"))  # wrapped: whitespace kept

    def test_expired_credentials_refused(self):
        self.control({"config": {"credential_lifetime_s": 1}})
        c = self.assume()["Credentials"]
        time.sleep(1.6)
        with self.assertRaises(ClientError) as e:
            self.sts(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
        self.assertEqual(e.exception.response["Error"]["Code"], "ExpiredToken")

    def test_credentials_from_registry_of_another_process(self):
        other = aws_fakes.Registry(self.reg)
        other.add("AKIDOTHERPROCESS", "othersecret", "arn:aws:iam::123456789012:user/other", None)
        self.assertEqual(self.sts("AKIDOTHERPROCESS", "othersecret").get_caller_identity()["Arn"],
                         "arn:aws:iam::123456789012:user/other")
        # A long-term key with a session token is refused, as STS refuses it.
        with self.assertRaises(ClientError) as e:
            self.sts("AKIDOTHERPROCESS", "othersecret", "some-token").get_caller_identity()
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_temporary_credentials_of_another_process_need_their_session_token(self):
        other = aws_fakes.Registry(self.reg)
        other.add("ASIAOTHERPROCESS", "othersecret", "arn:aws:iam::123456789012:user/other", None,
                  "the-issued-session-token")
        self.assertEqual(self.sts("ASIAOTHERPROCESS", "othersecret", "the-issued-session-token")
                         .get_caller_identity()["Arn"], "arn:aws:iam::123456789012:user/other")
        for refused in (None, "a-stale-session-token"):
            with self.subTest(session_token=refused), self.assertRaises(ClientError) as e:
                self.sts("ASIAOTHERPROCESS", "othersecret", refused).get_caller_identity()
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")

    def test_issued_credentials_need_their_own_session_token(self):
        first, second = self.assume()["Credentials"], self.assume()["Credentials"]
        for refused in (None, second["SessionToken"]):  # none, or one issued with other credentials
            with self.subTest(session_token="none" if refused is None else "another's"), \
                    self.assertRaises(ClientError) as e:
                self.sts(first["AccessKeyId"], first["SecretAccessKey"], refused).get_caller_identity()
            self.assertEqual(e.exception.response["Error"]["Code"], "InvalidClientTokenId")
        with open(self.reg) as f:  # the registry records it for the emulator and the secret sweep
            self.assertEqual(json.load(f)[first["AccessKeyId"]]["session_token"], first["SessionToken"])


class RegistryTest(FakeCase):
    def test_concurrent_writers_lose_nothing(self):
        regs = [aws_fakes.Registry(self.reg), aws_fakes.Registry(self.reg)]  # like two processes

        def write(i):
            for j in range(20):
                regs[i % 2].add("AKIDW%02d%02d" % (i, j), "s", "arn:aws:iam::123456789012:user/w", None)
        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        issued = []

        def fetch():
            for _ in range(10):
                issued.append(json.loads(self.http("GET", "/pod-identity")[1])["AccessKeyId"])
        threads += [threading.Thread(target=fetch) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        reg = self.registry()
        self.assertEqual(len(issued), 20)
        for k in issued + ["AKIDW%02d%02d" % (i, j) for i in range(4) for j in range(20)] + [BASE_AKID]:
            self.assertIn(k, reg)

    def test_emulator_accepts_issued_credentials(self):
        # The registry is the contract with tests/emulator/msk_emulator.py: a token signed with credentials
        # this fake issued must verify there.
        emu_dir = os.path.join(HERE, "..", "emulator")
        if not os.path.exists(os.path.join(emu_dir, "msk_emulator.py")):
            self.skipTest("no emulator")
        sys.path.insert(0, emu_dir)
        try:
            import msk_emulator
        finally:
            sys.path.remove(emu_dir)
        c = self.assume()["Credentials"]
        host = "kafka.us-east-1.amazonaws.com"
        req = AWSRequest(method="GET", url="https://%s/" % host, params={"Action": "kafka-cluster:Connect"})
        from botocore.auth import SigV4QueryAuth
        SigV4QueryAuth(Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]),
                       "kafka-cluster", "us-east-1", expires=900).add_auth(req)
        url = req.prepare().url
        token = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
        verifier = msk_emulator.TokenVerifier(msk_emulator.Registry(self.reg), "us-east-1")
        v = verifier.verify(token)
        self.assertEqual(v.principal, "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session")


class FaultTest(FakeCase):
    def test_sts_error_codes(self):
        for code, status in (("Throttling", 400), ("IDPCommunicationError", 400), ("ExpiredTokenException", 400),
                             ("AccessDenied", 403), ("InvalidIdentityToken", 400),
                             ("RegionDisabledException", 403)):
            self.control({"faults": [{"endpoint": "sts", "type": "error", "code": code}]})
            with self.assertRaises(ClientError) as e:
                self.assume()
            self.assertEqual(e.exception.response["Error"]["Code"], code)
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        self.assume()  # queue consumed
        self.assertEqual([x.get("fault") for x in self.log()], ["error"] * 6 + [None])

    def test_error_shapes(self):
        for shape, needle in (("Error", "<Error><Code>Throttling</Code>"), ("no-namespace", "<ErrorResponse>")):
            self.control({"faults": {"endpoint": "sts", "type": "error", "code": "Throttling", "shape": shape}})
            st, data = self.form({"Action": "GetCallerIdentity"})
            self.assertEqual(st, 400)
            self.assertIn(needle, data.decode())

    def test_per_action_queue_and_persistent(self):
        self.control({"faults": [{"endpoint": "sts", "action": "AssumeRole", "type": "status", "status": 503,
                                  "times": 2}]})
        self.sts().get_caller_identity()  # other action: unaffected
        for _ in range(2):
            with self.assertRaises(ClientError) as e:
                self.assume()
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        self.assume()
        self.control({"faults": [{"endpoint": "sts", "type": "status", "status": 500, "persistent": True}]})
        for _ in range(3):
            with self.assertRaises(ClientError):
                self.sts().get_caller_identity()
        snap = json.loads(self.http("GET", "/_control")[1])
        self.assertIn("sts", snap["faults"]["persistent"])
        self.control({"clear_faults": "sts"})
        self.sts().get_caller_identity()

    def test_status_codes_with_body(self):
        for status in (500, 503, 403, 404, 405, 401):
            self.control({"faults": [{"endpoint": "container", "type": "status", "status": status,
                                      "body": "custom %d" % status}]})
            st, data, _ = self.http("GET", "/v2/credentials/abc")
            self.assertEqual((st, data.decode()), (status, "custom %d" % status))

    def test_container_fault_by_path_and_mode(self):
        self.control({"faults": [{"endpoint": "container", "action": "/pod-identity", "type": "status",
                                  "status": 500},
                                 {"endpoint": "container", "action": "ecs", "type": "status", "status": 404}]})
        self.assertEqual(self.http("GET", "/v1/credentials")[0], 200)   # pod-identity mode, other path
        self.assertEqual(self.http("GET", "/pod-identity")[0], 500)
        self.assertEqual(self.http("GET", "/v2/credentials/abc")[0], 404)
        self.assertEqual(self.http("GET", "/v2/credentials/abc")[0], 200)

    def test_delay(self):
        self.control({"faults": [{"endpoint": "imds", "action": "token", "type": "delay", "ms": 400}]})
        t0 = time.monotonic()
        st, _, _ = self.http("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.38)

    def test_hang_until_client_gives_up(self):
        self.control({"faults": [{"endpoint": "container", "type": "hang"}]})
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            self.http("GET", "/v2/credentials/abc", timeout=0.5)
        self.assertLess(time.monotonic() - t0, 2)
        st, _, _ = self.http("GET", "/v2/credentials/abc")  # server still serves others
        self.assertEqual(st, 200)

    def test_hang_logged_on_arrival(self):
        # A client's requests after a hung one follow it in the log, also while it still hangs.
        self.control({"faults": [{"endpoint": "container", "type": "hang"}]})
        hung = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            hung.request("GET", "/v2/credentials/abc")
            deadline = time.monotonic() + 3
            while not self.log() and time.monotonic() < deadline:
                time.sleep(0.02)
            st, _, _ = self.http("GET", "/v2/credentials/abc")
            self.assertEqual(st, 200)
            self.assertEqual([(x.get("fault"), x["status"]) for x in self.log()], [("hang", None), (None, 200)])
        finally:
            hung.close()

    def test_reset(self):
        self.control({"faults": [{"endpoint": "sts", "type": "reset"}]})
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected, OSError)):
            self.form({"Action": "GetCallerIdentity"})

    def test_truncated_malformed_huge(self):
        self.control({"faults": [{"endpoint": "container", "type": "truncate"}]})
        with self.assertRaises(http.client.IncompleteRead):
            self.http("GET", "/v2/credentials/abc")
        self.control({"faults": [{"endpoint": "container", "type": "malformed"}]})
        st, data, _ = self.http("GET", "/v2/credentials/abc")
        self.assertEqual(st, 200)
        with self.assertRaises(ValueError):
            json.loads(data)
        self.control({"faults": [{"endpoint": "sts", "type": "malformed"}]})
        st, data = self.form({"Action": "GetCallerIdentity"})
        self.assertEqual(st, 200)
        self.assertNotIn(b"</AssumeRoleResponse>", data)
        self.control({"faults": [{"endpoint": "sts", "type": "huge", "bytes": 4 << 20}]})
        r = self.assume()  # still valid XML, just big
        self.assertTrue(r["Credentials"]["AccessKeyId"].startswith("ASIA"))
        self.control({"faults": [{"endpoint": "imds", "type": "huge", "bytes": 3 << 20}]})
        st, data, _ = self.http("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertGreater(len(data), 3 << 20)

    def test_bad_control(self):
        req = urllib.request.Request(self.url + "/_control", data=b'{"faults": [{"endpoint": "nope"}]}',
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(e.exception.code, 400)


class ImdsTest(FakeCase):
    def token(self, ttl="21600"):
        st, data, _ = self.http("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        self.assertEqual(st, 200)
        return data.decode()

    def test_v2_flow(self):
        tok = self.token()
        st, role, _ = self.http("GET", "/latest/meta-data/iam/security-credentials/",
                                {"X-aws-ec2-metadata-token": tok})
        self.assertEqual((st, role), (200, b"mskiam-instance-role"))
        st, data, _ = self.http("GET", "/latest/meta-data/iam/security-credentials/mskiam-instance-role",
                                {"X-aws-ec2-metadata-token": tok})
        doc = json.loads(data)
        self.assertEqual(doc["Code"], "Success")
        self.assertEqual(set(doc), {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token",
                                    "Expiration"})
        reg = self.registry()[doc["AccessKeyId"]]
        self.assertEqual(reg["principal"],
                         "arn:aws:sts::123456789012:assumed-role/mskiam-instance-role/i-0123456789abcdef0")
        # Same credentials again while far from expiry.
        st, data2, _ = self.http("GET", "/latest/meta-data/iam/security-credentials/mskiam-instance-role",
                                 {"X-aws-ec2-metadata-token": tok})
        self.assertEqual(json.loads(data2)["AccessKeyId"], doc["AccessKeyId"])
        st, _, _ = self.http("GET", "/latest/meta-data/iam/security-credentials/other",
                             {"X-aws-ec2-metadata-token": tok})
        self.assertEqual(st, 404)
        self.assertEqual([x.get("imds_token") for x in self.log()], [None, "valid", "valid", "valid", "valid"])

    def test_token_rules_and_v1(self):
        self.assertEqual(self.http("PUT", "/latest/api/token")[0], 400)
        self.assertEqual(self.http("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "0"})[0], 400)
        self.assertEqual(self.http("GET", "/latest/api/token")[0], 405)
        self.assertEqual(self.http("GET", "/latest/meta-data/iam/security-credentials/")[0], 401)
        self.assertEqual(self.http("GET", "/latest/meta-data/iam/security-credentials/",
                                   {"X-aws-ec2-metadata-token": "forged"})[0], 401)
        tok = self.token("1")
        time.sleep(1.2)
        self.assertEqual(self.http("GET", "/latest/meta-data/iam/security-credentials/",
                                   {"X-aws-ec2-metadata-token": tok})[0], 401)
        self.control({"config": {"imds": {"allow_v1": True}}})
        self.assertEqual(self.http("GET", "/latest/meta-data/iam/security-credentials/")[0], 200)

    def test_token_put_faults_for_fallback(self):
        for status in (403, 404, 405):
            self.control({"faults": [{"endpoint": "imds", "action": "token", "type": "status", "status": status}]})
            self.assertEqual(self.http("PUT", "/latest/api/token",
                                       {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[0], status)

    def test_rotation_near_expiry(self):
        # Expiration is in whole seconds: first fetches see 5-6 s left, after 3.5 s at most 2.5 s < 3.
        self.control({"config": {"credential_lifetime_s": 6, "imds": {"refresh_before_s": 3}}})
        tok = self.token()
        p = "/latest/meta-data/iam/security-credentials/mskiam-instance-role"
        a = json.loads(self.http("GET", p, {"X-aws-ec2-metadata-token": tok})[1])
        b = json.loads(self.http("GET", p, {"X-aws-ec2-metadata-token": tok})[1])
        self.assertEqual(a["AccessKeyId"], b["AccessKeyId"])
        time.sleep(3.5)
        c = json.loads(self.http("GET", p, {"X-aws-ec2-metadata-token": tok})[1])
        self.assertNotEqual(a["AccessKeyId"], c["AccessKeyId"])


class ContainerTest(FakeCase):
    config = {"container": {"authorization_token": "Bearer pod-token"}}

    def test_ecs(self):
        st, data, _ = self.http("GET", "/v2/credentials/abc", {"Authorization": "Bearer pod-token"})
        self.assertEqual(st, 200)
        doc = json.loads(data)
        self.assertEqual(set(doc), {"AccessKeyId", "Expiration", "RoleArn", "SecretAccessKey", "Token"})
        st, data2, _ = self.http("GET", "/v2/credentials/abc", {"Authorization": "Bearer pod-token"})
        self.assertEqual(json.loads(data2)["AccessKeyId"], doc["AccessKeyId"])
        self.assertEqual(self.http("GET", "/v2/credentials/abc")[0], 401)
        self.assertEqual(self.http("GET", "/v2/credentials/abc", {"Authorization": "nope"})[0], 401)
        self.assertEqual(self.http("GET", "/v2/credentials/other")[0], 404)
        self.assertEqual([x.get("authorization") for x in self.log()[:4]],
                         ["matched", "matched", "missing", "mismatch"])

    def test_pod_identity_new_principal_every_fetch(self):
        principals = set()
        for _ in range(3):
            st, data, _ = self.http("GET", "/pod-identity", {"Authorization": "Bearer pod-token"})
            self.assertEqual(st, 200)
            doc = json.loads(data)
            self.assertEqual(set(doc), {"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"})
            self.assertRegex(doc["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
            p = self.registry()[doc["AccessKeyId"]]["principal"]
            self.assertRegex(p, r"^arn:aws:sts::123456789012:assumed-role/ContainerRole/eks-cluster-pod-[0-9a-f-]{36}$")
            principals.add(p)
        self.assertEqual(len(principals), 3)

    def test_chain_pod_identity_into_assume_role(self):
        doc = json.loads(self.http("GET", "/pod-identity", {"Authorization": "Bearer pod-token"})[1])
        c = self.sts(doc["AccessKeyId"], doc["SecretAccessKey"], doc["Token"])
        r = self.assume(c)
        self.assertEqual(r["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session")
        self.assertIn("assumed-role/ContainerRole/eks-cluster-pod-", self.log()[-1]["caller"])


class LogTest(FakeCase):
    def test_log_has_no_secrets(self):
        tokfile = os.path.join(self.dir, "t")
        with open(tokfile, "w") as f:
            f.write(WEB_TOKEN)
        self.control({"config": {"sts": {"expected_web_identity_token_file": tokfile},
                                 "container": {"authorization_token": "Bearer SECRET-AUTH-VALUE"},
                                 "imds": {"allow_v1": True}}})
        secrets_seen = [BASE_SECRET, WEB_TOKEN, "SECRET-AUTH-VALUE"]
        r = self.assume()
        secrets_seen += [r["Credentials"]["SecretAccessKey"], r["Credentials"]["SessionToken"]]
        c = r["Credentials"]
        self.sts(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
        q = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "RoleArn": ROLE, "RoleSessionName": "w",
                                    "WebIdentityToken": WEB_TOKEN})
        self.http("GET", "/?" + q)
        self.form({"Action": "AssumeRoleWithWebIdentity", "RoleArn": ROLE, "RoleSessionName": "ww",
                   "WebIdentityToken": WEB_TOKEN})
        doc = json.loads(self.http("GET", "/pod-identity", {"Authorization": "Bearer SECRET-AUTH-VALUE"})[1])
        secrets_seen += [doc["SecretAccessKey"], doc["Token"]]
        tok = self.http("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[1].decode()
        secrets_seen.append(tok)
        d = json.loads(self.http("GET", "/latest/meta-data/iam/security-credentials/mskiam-instance-role",
                                 {"X-aws-ec2-metadata-token": tok})[1])
        secrets_seen += [d["SecretAccessKey"], d["Token"]]
        with open(self.logf) as f:
            text = f.read()
        remote = self.http("GET", "/_log")[1].decode()
        self.assertEqual(len(text.splitlines()), 7)
        self.assertEqual(len(json.loads(remote)), 7)
        for s in secrets_seen:
            self.assertNotIn(s, text)
            self.assertNotIn(s, remote)
            self.assertNotIn(urllib.parse.quote(s, safe=""), text)
        self.assertNotIn("AWS4-HMAC-SHA256", text)
        for line in self.log():
            for k in ("endpoint", "action", "status", "ts"):
                self.assertIn(k, line)


class CliTest(unittest.TestCase):
    def test_cli_port_file_registry_and_sigterm(self):
        d = tempfile.mkdtemp(prefix="aws-fakes-cli-")
        try:
            cfg = os.path.join(d, "cfg.json")
            with open(cfg, "w") as f:
                json.dump({"config": {"container": {"paths": {"/creds": "pod-identity"}}},
                           "faults": [{"endpoint": "container", "type": "status", "status": 503}]}, f)
            portf = os.path.join(d, "port")
            hung = None
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "aws_fakes.py"), "--port", "0",
                                  "--port-file", portf, "--registry", os.path.join(d, "reg.json"), "--log",
                                  os.path.join(d, "log.jsonl"), "--base-credentials",
                                  "AKIDCLI:secret:arn:aws:iam::123456789012:user/x",
                                  "--config", cfg, "--credential-lifetime-s", "20"],
                                 stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 10
                while not os.path.exists(portf) and time.time() < deadline:
                    time.sleep(0.05)
                with open(portf) as f:
                    port = int(f.read())
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen("http://127.0.0.1:%d/creds" % port, timeout=5)
                self.assertEqual(e.exception.code, 503)
                with urllib.request.urlopen("http://127.0.0.1:%d/creds" % port, timeout=5) as r:
                    doc = json.loads(r.read())
                with open(os.path.join(d, "reg.json")) as f:
                    reg = json.load(f)
                self.assertIn(doc["AccessKeyId"], reg)
                self.assertIn("AKIDCLI", reg)
                self.assertAlmostEqual(reg[doc["AccessKeyId"]]["expiration_ms"] / 1000.0, time.time() + 20, delta=3)
                # A request left hanging does not delay SIGTERM.
                req = urllib.request.Request("http://127.0.0.1:%d/_control" % port, method="POST",
                                             data=b'{"faults": {"endpoint": "container", "type": "hang"}}')
                urllib.request.urlopen(req, timeout=5).close()
                hung = socket.create_connection(("127.0.0.1", port))
                hung.sendall(b"GET /creds HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.3)
            finally:
                t0 = time.monotonic()
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=10), 0)
                self.assertLess(time.monotonic() - t0, 3)
                if hung is not None:
                    hung.close()
        finally:
            shutil.rmtree(d, ignore_errors=True)


import botocore.config  # noqa: E402  (after botocore.session, which it needs)

if __name__ == "__main__":
    unittest.main()
