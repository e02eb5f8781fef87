#!/usr/bin/python3
"""Loopback fakes of the AWS credential endpoints, for mskiam's C++ tests and e2e tests.

One threaded HTTP/1.1 server on 127.0.0.1 serves:
  * STS (Query protocol, POST / form-encoded or GET /?query): AssumeRole and GetCallerIdentity
    (SigV4, service "sts", verified with botocore), AssumeRoleWithWebIdentity (unsigned);
  * IMDSv2: PUT /latest/api/token, GET /latest/meta-data/iam/security-credentials/[<role>];
  * container endpoints (ECS task role / EKS Pod Identity agent) on configurable paths;
  * POST /_control (faults, configuration), GET /_control (current state), GET /_log (request log).

Every credential it issues is merged into a registry JSON file shared with the MSK broker emulator:
  {"<access_key_id>": {"secret_access_key": "...", "principal": "<ARN>", "expiration_ms": <int|null>,
                       "session_token": "..." (temporary credentials only: valid only with it)}}
The request log never holds a secret, session token, web identity token or Authorization value; it only
says whether they matched. See README.md next to this file.

Run with /usr/bin/python3 (Debian's, which has python3-botocore).
"""

import argparse
import base64
import copy
import datetime
import fcntl
import hashlib
import http.server
import json
import os
import re
import secrets
import select
import signal
import socket
import socketserver
import string
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
DEFAULT_ACCOUNT = "123456789012"
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]*$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]*$")
ROLE_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
MAX_BODY = 1 << 20           # requests larger than this are refused (413)
HANG_LIMIT_S = 60.0          # "hang" faults never last longer than this
STS_ACTIONS = ("AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity")
ENDPOINTS = ("sts", "imds", "container")
FAULT_TYPES = ("status", "error", "sts_error", "delay", "hang", "truncate", "malformed", "huge", "reset")

# Default HTTP status of STS error codes (credentials.md section 3.4).
STS_ERROR_STATUS = {
    "Throttling": 400, "ThrottlingException": 400, "RequestLimitExceeded": 400,
    "IDPCommunicationError": 400, "InvalidIdentityToken": 400, "IDPRejectedClaim": 403,
    "ExpiredTokenException": 400, "ExpiredToken": 403, "MalformedPolicyDocument": 400,
    "PackedPolicyTooLarge": 400, "RegionDisabledException": 403, "AccessDenied": 403,
    "InternalFailure": 500, "ServiceUnavailable": 503, "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403, "IncompleteSignature": 400, "RequestExpired": 400,
    "ValidationError": 400, "InvalidAction": 400, "MissingAuthenticationToken": 403,
}
STS_ERROR_MESSAGE = {
    "Throttling": "Rate exceeded",
    "IDPCommunicationError": "Couldn't retrieve verification key from your identity provider, "
                             "please reference AssumeRoleWithWebIdentity documentation for requirements",
    "InvalidIdentityToken": "Couldn't retrieve verification key from your identity provider",
    "ExpiredTokenException": "Token expired: current date/time 1700000000 must be before the "
                             "expiration date/time 1600000000",
    "AccessDenied": "User: arn:aws:sts::123456789012:assumed-role/base/x is not authorized to perform: "
                    "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/MskRole",
    "RegionDisabledException": "STS is not activated in this region for account:123456789012. Your "
                               "account administrator can activate STS in this region using the IAM Console.",
    "InternalFailure": "An internal error occurred",
    "ServiceUnavailable": "Service unavailable",
}

DEFAULT_CONFIG = {
    "account_id": DEFAULT_ACCOUNT,
    # Lifetime of issued credentials in seconds; null: STS uses DurationSeconds (default 3600),
    # IMDS and container use their own "lifetime_s" below.
    "credential_lifetime_s": None,
    "sts": {
        "region": None,                       # null: any signing region accepted
        "max_skew_s": 900,                    # X-Amz-Date must be within this of now
        "role_max_session_duration_s": 43200,  # the role's MaxSessionDuration
        "expected_web_identity_token": None,  # null: any token accepted (unless a token file is set)
        "expected_web_identity_token_file": None,  # re-read at every call
        "single_line_session_token": True,    # false: token wrapped over lines like the doc sample
        "reorder_credentials": False,         # true: Credentials children in the 6.2 order
    },
    "imds": {
        "role_name": "mskiam-instance-role",
        "role_arn": None,                     # null: arn:aws:iam::<account>:role/<role_name>
        "session_name": "i-0123456789abcdef0",
        "allow_v1": False,                    # true: data GETs without a token are answered
        "lifetime_s": 21600,
        "refresh_before_s": None,             # null: min(300, lifetime/4): new creds this long before expiry
    },
    "container": {
        # path -> "ecs" (credentials reused until near expiry, stable principal) or
        #         "pod-identity" (every fetch issues new credentials with a new session name)
        "paths": {"/v2/credentials/abc": "ecs", "/pod-identity": "pod-identity",
                  "/v1/credentials": "pod-identity"},
        "authorization_token": None,          # null: Authorization not checked
        "role_arn": "arn:aws:iam::123456789012:role/ContainerRole",
        "ecs_session_name": "ecs-task-0123456789abcdef",
        "cluster_name": "cluster",
        "pod_name": "pod",
        "lifetime_s": 21600,
        "refresh_before_s": None,
    },
}


def _now():
    return time.time()


def iso8601(epoch_s, fraction_digits=0):
    dt = datetime.datetime.fromtimestamp(epoch_s, datetime.timezone.utc)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction_digits == 9:
        return "%s.%06d000Z" % (base, dt.microsecond)
    return base + "Z"


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_access_key_id():
    return "ASIA" + _rand(string.ascii_uppercase + string.digits, 16)


def new_secret():
    return _rand(string.ascii_letters + string.digits + "/+", 40)


def new_session_token():
    # Long, with '/', '+' and '=' like real tokens, so that URL encoding bugs show.
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(300)).decode("ascii")


def deep_merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = v


# --------------------------------------------------------------------------------------------------
# Registry of issued credentials, shared with other processes.


class Registry:
    def __init__(self, path):
        self.path = os.path.abspath(path)
        self._lock = threading.Lock()

    def add(self, access_key_id, secret, principal, expiration_ms, session_token=None):
        entry = {"secret_access_key": secret, "principal": principal, "expiration_ms": expiration_ms}
        if session_token is not None:  # temporary credentials: valid only with this token
            entry["session_token"] = session_token
        with self._lock, open(self.path + ".lock", "a") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            data = self.read()
            data[access_key_id] = entry
            tmp = "%s.tmp.%d.%d" % (self.path, os.getpid(), threading.get_ident())
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

    def read(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}


# --------------------------------------------------------------------------------------------------
# SigV4 verification (botocore computes the signature).


class _SignedHeadersSigV4(SigV4Auth):
    """SigV4Auth that signs exactly the headers the client listed in SignedHeaders."""

    def __init__(self, credentials, service, region, signed_headers):
        super().__init__(credentials, service, region)
        self._signed = signed_headers

    def headers_to_sign(self, request):
        out = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or []:
                out[name] = value
        return out


class SigError(Exception):
    def __init__(self, code, message, status=403, verdict="mismatch"):
        super().__init__(message)
        self.code, self.message, self.status, self.verdict = code, message, status, verdict
        self.akid = None


AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)


def verify_sigv4(method, path, query_pairs, headers, body, lookup, expected_region, max_skew_s):
    """Returns (access_key_id, credential record). Raises SigError."""
    auth = headers.get("Authorization")
    if not auth:
        raise SigError("MissingAuthenticationToken", "Request is missing Authentication Token",
                       verdict="missing")
    m = AUTH_RE.match(auth.strip())
    if not m:
        raise SigError("IncompleteSignature", "Unsupported authorization type", 400, "malformed")
    fields = {}
    for part in m.group(1).split(","):
        k, _, v = part.strip().partition("=")
        fields[k.strip()] = v.strip()
    try:
        cred, signed, sig = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except KeyError:
        raise SigError("IncompleteSignature", "Authorization header requires 'Credential', "
                       "'SignedHeaders' and 'Signature' parameters.", 400, "malformed")
    scope = cred.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SigError("IncompleteSignature", "Credential must have exactly 5 slash-delimited elements, "
                       "e.g. keyid/date/region/service/term", 400, "malformed")
    akid, date, region, service = scope[:4]
    try:
        return _verify_scoped(akid, date, region, service, signed, sig, method, path, query_pairs, headers,
                              body, lookup, expected_region, max_skew_s)
    except SigError as e:
        e.akid = akid
        raise


def _verify_scoped(akid, date, region, service, signed, sig, method, path, query_pairs, headers, body, lookup,
                   expected_region, max_skew_s):
    amz_date = headers.get("X-Amz-Date")
    if not amz_date:
        raise SigError("IncompleteSignature", "Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header.", 400, "malformed")
    signed_list = [h for h in signed.split(";") if h]
    if "host" not in signed_list:
        raise SigError("SignatureDoesNotMatch", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    if service != "sts":
        raise SigError("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. ")
    if expected_region and region != expected_region:
        raise SigError("SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")
    if date != amz_date[:8]:
        raise SigError("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from "
                       "ISO-8601 version of date from HTTP: '%s' != '%s'" % (date, amz_date[:8]))
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SigError("IncompleteSignature", "Date must be in ISO-8601 'basic format'.", 400, "malformed")
    if max_skew_s and abs(t.timestamp() - _now()) > max_skew_s:
        raise SigError("RequestExpired", "Request has expired.", 400, "expired")
    rec = lookup(akid)
    if rec is None:
        raise SigError("InvalidClientTokenId", "The security token included in the request is invalid.",
                       verdict="unknown_key")
    sha = headers.get("X-Amz-Content-SHA256")
    if sha is not None and sha != "UNSIGNED-PAYLOAD" and sha != hashlib.sha256(body).hexdigest():
        raise SigError("XAmzContentSHA256Mismatch",
                       "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
    url = "http://%s%s" % (headers.get("Host", "localhost"), path)
    req = AWSRequest(method=method, url=url, data=body, params=query_pairs)
    req.headers = HTTPHeaders()
    for name, value in headers.items():
        req.headers[name] = value
    req.context["timestamp"] = amz_date
    signer = _SignedHeadersSigV4(Credentials(akid, rec["secret_access_key"]), service, region, signed_list)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if not secrets.compare_digest(expected, sig):
        raise SigError("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and signing method. "
                       "Consult the service documentation for details.")
    # Session token: must match the one issued with these credentials, if any.
    token = headers.get("X-Amz-Security-Token")
    want = rec.get("session_token")
    if want is not None or token is not None:
        if token is None or want is None or not secrets.compare_digest(token, want):
            raise SigError("InvalidClientTokenId", "The security token included in the request is invalid.",
                           verdict="bad_session_token")
    exp = rec.get("expiration_ms")
    if exp is not None and exp < _now() * 1000:
        raise SigError("ExpiredToken", "The security token included in the request is expired",
                       verdict="expired_credentials")
    return akid, rec


# --------------------------------------------------------------------------------------------------
# Faults


class FaultBook:
    """Queued (consumed one per request) and persistent faults, per endpoint or endpoint:action."""

    def __init__(self):
        self._lock = threading.Lock()
        self.queues = {}       # key -> list of faults
        self.persistent = {}   # key -> fault

    @staticmethod
    def key(fault):
        ep = fault.get("endpoint")
        if ep not in ENDPOINTS:
            raise ValueError("fault endpoint must be one of %s" % (ENDPOINTS,))
        t = fault.get("type")
        if t not in FAULT_TYPES:
            raise ValueError("fault type must be one of %s" % (FAULT_TYPES,))
        return ep + (":" + fault["action"] if fault.get("action") else "")

    def add(self, fault):
        k = self.key(fault)
        with self._lock:
            if fault.get("persistent"):
                self.persistent[k] = fault
            else:
                times = int(fault.get("times", 1))
                self.queues.setdefault(k, []).extend([fault] * times)

    def clear(self, which=None):
        with self._lock:
            if which in (None, True, "all"):
                self.queues.clear()
                self.persistent.clear()
            else:
                for d in (self.queues, self.persistent):
                    for k in [k for k in d if k == which or k.startswith(which + ":")]:
                        del d[k]

    def take(self, endpoint, actions):
        """actions: the names this request answers to, most specific first (e.g. [path, mode])."""
        if isinstance(actions, str):
            actions = [actions]
        keys = [endpoint + ":" + a for a in (actions or []) if a] + [endpoint]
        with self._lock:
            for k in keys:
                q = self.queues.get(k)
                if q:
                    return q.pop(0)
            for k in keys:
                if k in self.persistent:
                    return self.persistent[k]
        return None

    def snapshot(self):
        with self._lock:
            return {"queued": {k: list(v) for k, v in self.queues.items() if v},
                    "persistent": dict(self.persistent)}


# --------------------------------------------------------------------------------------------------
# State


class State:
    def __init__(self, registry_path, log_path, config, base_credentials):
        self.lock = threading.Lock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.faults = FaultBook()
        self.registry = Registry(registry_path)
        self.log_path = log_path
        self.log = []
        self._log_lock = threading.Lock()
        self.creds = {}           # access_key_id -> {secret_access_key, session_token, principal, expiration_ms}
        self.imds_tokens = {}     # token -> expiry epoch s
        self.cached = {}          # "imds" / "container:<path>" -> issued credential record
        self.stop = threading.Event()
        self.apply_control(config or {})
        for b in base_credentials:
            self.add_base(b)

    # -- configuration -------------------------------------------------------------------------
    def apply_control(self, ctl):
        if not isinstance(ctl, dict):
            raise ValueError("control body must be a JSON object")
        unknown = set(ctl) - {"reset", "clear_faults", "faults", "config", "base_credentials", "clear_log",
                              "forget_cached"}
        if unknown:
            raise ValueError("unknown control keys: %s" % sorted(unknown))
        faults = ctl.get("faults", [])
        if isinstance(faults, dict):
            faults = [faults]
        if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
            raise ValueError("faults must be an object or a list of objects")
        for f in faults:
            FaultBook.key(f)
            int(f.get("times", 1))
        if "config" in ctl and not isinstance(ctl["config"], dict):
            raise ValueError("config must be an object")
        bases = ctl.get("base_credentials", [])
        if not isinstance(bases, list) or not all(isinstance(b, dict) and "access_key_id" in b
                                                  and "secret_access_key" in b for b in bases):
            raise ValueError("base_credentials must be a list of {access_key_id, secret_access_key, ...}")
        if ctl.get("reset"):
            self.faults.clear()
            with self.lock:
                self.cached.clear()
        if ctl.get("clear_faults"):
            self.faults.clear(ctl["clear_faults"])
        if ctl.get("forget_cached"):
            with self.lock:
                self.cached.clear()
        if "config" in ctl:
            with self.lock:
                deep_merge(self.config, ctl["config"])
        for b in bases:
            self.add_base(b)
        for f in faults:
            self.faults.add(f)
        if ctl.get("clear_log"):
            with self._log_lock:
                self.log.clear()

    def cfg(self, *path):
        with self.lock:
            v = self.config
            for p in path:
                v = v[p]
            return copy.deepcopy(v)

    def add_base(self, b):
        akid, secret = b["access_key_id"], b["secret_access_key"]
        principal = b.get("principal") or "arn:aws:iam::%s:user/mskiam-test" % self.cfg("account_id")
        rec = {"secret_access_key": secret, "session_token": b.get("session_token"),
               "principal": principal, "expiration_ms": b.get("expiration_ms")}
        with self.lock:
            self.creds[akid] = rec
        self.registry.add(akid, secret, principal, rec["expiration_ms"], rec["session_token"])

    def lookup(self, akid):
        with self.lock:
            rec = self.creds.get(akid)
        if rec is not None:
            return dict(rec)
        entry = self.registry.read().get(akid)   # credentials registered by another process
        if isinstance(entry, dict) and "secret_access_key" in entry:
            return {"secret_access_key": entry["secret_access_key"], "session_token": entry.get("session_token"),
                    "principal": entry.get("principal", ""), "expiration_ms": entry.get("expiration_ms")}
        return None

    def issue(self, principal, lifetime_s, fractional=False):
        now = _now()
        exp_s = (now + lifetime_s) if fractional else float(int(now) + int(lifetime_s))
        rec = {"access_key_id": new_access_key_id(), "secret_access_key": new_secret(),
               "session_token": new_session_token(), "principal": principal,
               "expiration_ms": int(exp_s * 1000), "expiration_s": exp_s}
        with self.lock:
            self.creds[rec["access_key_id"]] = {k: rec[k] for k in
                                               ("secret_access_key", "session_token", "principal",
                                                "expiration_ms")}
        self.registry.add(rec["access_key_id"], rec["secret_access_key"], principal, rec["expiration_ms"],
                          rec["session_token"])
        return rec

    def record(self, entry):
        entry = dict(entry, ts=round(_now(), 3))
        line = json.dumps(entry, sort_keys=True)
        with self._log_lock:
            self.log.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")


# --------------------------------------------------------------------------------------------------
# HTTP handler


class Reply(Exception):
    """Raised to answer at once: status, content type, body bytes, extra headers."""

    def __init__(self, status, body=b"", ctype="text/plain", headers=None):
        super().__init__(status)
        self.status, self.body, self.ctype, self.headers = status, body, ctype, headers or {}


def sts_error_body(code, message, shape="ErrorResponse", sender=True):
    rid = str(uuid.uuid4())
    typ = "Sender" if sender else "Receiver"
    if shape == "Error":
        x = ("<Error><Code>%s</Code><Message>%s</Message><Resource>/</Resource><RequestId>%s</RequestId>"
             "</Error>" % (xml_escape(code), xml_escape(message), rid))
    else:
        ns = "" if shape == "no-namespace" else ' xmlns="%s"' % STS_NS
        x = ("<ErrorResponse%s>\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n"
             "  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n"
             % (ns, typ, xml_escape(code), xml_escape(message), rid))
    return x.encode()


def sts_error(code, message=None, status=None, shape="ErrorResponse"):
    status = status or STS_ERROR_STATUS.get(code, 400)
    message = message if message is not None else STS_ERROR_MESSAGE.get(code, code)
    return Reply(status, sts_error_body(code, message, shape, status < 500), "text/xml")


def json_reply(status, obj):
    return Reply(status, (json.dumps(obj, indent=2) + "\n").encode(), "application/json")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-fakes/1"
    sys_version = ""

    def version_string(self):
        return self.server_version
    state = None  # set on the subclass

    def log_message(self, fmt, *args):  # the request log is ours; keep stderr quiet
        pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    # -- plumbing --------------------------------------------------------------------------------
    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_BODY:
                    raise Reply(413, b"request too large")
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise Reply(413, b"request too large")
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, ctype, headers=None, truncate=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if "x-amzn-RequestId" not in (headers or {}):
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        self.wfile.flush()

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _hang(self, max_s):
        deadline = time.monotonic() + min(float(max_s), HANG_LIMIT_S)
        while not self.state.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.connection], [], [], min(left, 0.2))
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break  # client gave up
                except OSError:
                    break
                time.sleep(0.05)  # pipelined data: keep waiting
        self.close_connection = True

    def _dispatch(self):
        st = self.state
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        entry = {"method": self.command, "path": path}
        try:
            body = self._read_body()
            if path == "/_control":
                return self._control(body)
            if path == "/_log":
                with st._log_lock:
                    data = list(st.log)
                raise json_reply(200, data)
            if path.startswith("/latest/"):
                entry["endpoint"] = "imds"
                self._imds(path, entry)
            elif path in st.cfg("container", "paths"):
                entry["endpoint"] = "container"
                self._container(path, entry)
            elif path == "/":
                entry["endpoint"] = "sts"
                self._sts(parsed, body, entry)
            else:
                entry["endpoint"] = "unknown"
                raise Reply(404, b"Not Found\n")
        except Reply as r:
            entry["status"] = r.status
            if entry.get("endpoint"):
                st.record(entry)
            try:
                self._send(r.status, r.body, r.ctype, r.headers)
            except OSError:
                pass
        except _Handled:
            if entry.get("endpoint"):
                st.record(entry)
        except _Recorded:
            pass
        except (ValueError, KeyError) as e:
            entry["status"] = 400
            entry["error"] = str(e)[:200]
            if entry.get("endpoint"):
                st.record(entry)
            self._send(400, ("bad request: %s\n" % e).encode(), "text/plain")

    def _control(self, body):
        st = self.state
        if self.command == "GET":
            with st.lock:
                cfg = copy.deepcopy(st.config)
            raise json_reply(200, {"config": cfg, "faults": st.faults.snapshot()})
        if self.command != "POST":
            raise Reply(405, b"method not allowed\n")
        try:
            ctl = json.loads(body.decode() or "{}")
            st.apply_control(ctl)
        except (ValueError, KeyError, TypeError) as e:
            raise json_reply(400, {"error": str(e)})
        raise json_reply(200, {"ok": True})

    # -- faults ----------------------------------------------------------------------------------
    def _apply_fault(self, endpoint, actions, entry, normal):
        """normal() -> Reply of the real answer. Applies a fault if one is due; always ends the request."""
        f = self.state.faults.take(endpoint, actions)
        if f is None:
            raise normal()
        t = f["type"]
        entry["fault"] = t
        if f.get("delay_ms"):
            time.sleep(float(f["delay_ms"]) / 1000.0)
        if t == "delay":
            time.sleep(float(f.get("ms", 0)) / 1000.0)
            raise normal()
        if t == "hang":
            # Logged when it arrives, not when it ends: the client's later requests come after it in
            # the log, and the log already shows it while it hangs.
            entry["status"] = None
            self.state.record(entry)
            self._hang(f.get("max_s", HANG_LIMIT_S))
            raise _Recorded()
        if t == "reset":
            self._reset()
            entry["status"] = None
            raise _Handled()
        if t == "status":
            status = int(f.get("status", 500))
            if "body" in f:
                raise Reply(status, f["body"].encode(), f.get("content_type", "text/plain"))
            if endpoint == "sts":
                code = {500: "InternalFailure", 503: "ServiceUnavailable", 403: "AccessDenied",
                        401: "InvalidClientTokenId", 404: "NotFound", 405: "MethodNotAllowed"}.get(status, "Error")
                raise sts_error(code, None, status)
            if endpoint == "imds":
                raise Reply(status, b"", "text/plain")
            raise json_reply(status, {"Code": "Error%d" % status, "Message": "injected HTTP %d" % status})
        if t in ("error", "sts_error"):
            code = f.get("code", "InternalFailure")
            if endpoint == "sts":
                raise sts_error(code, f.get("message"), f.get("status"), f.get("shape", "ErrorResponse"))
            raise json_reply(int(f.get("status", 400)),
                             {"Code": code, "Message": f.get("message", STS_ERROR_MESSAGE.get(code, code))})
        if t == "malformed":
            if endpoint == "sts":
                raise Reply(200, b"<AssumeRoleResponse xmlns=\"%s\"><AssumeRoleResult><Credentials>"
                                 b"<AccessKeyId>ASIA</Acc" % STS_NS.encode(), "text/xml")
            raise Reply(200, b'{"AccessKeyId": "ASIA", "SecretAccessKey": ', "application/json")
        if t == "truncate":
            r = normal()
            self._send(r.status, r.body, r.ctype, r.headers, truncate=True)
            entry["status"] = r.status
            raise _Handled()
        if t == "huge":
            n = int(f.get("bytes", 5 * 1024 * 1024))
            r = normal()
            pad = b" " * n
            if r.ctype == "text/xml" and r.body.rstrip().endswith(b">"):
                body = r.body.replace(b"<ResponseMetadata>", b"<Padding>" + pad + b"</Padding><ResponseMetadata>", 1)
            elif r.ctype == "application/json":
                body = r.body.rstrip()[:-1] + b', "Padding": "' + pad + b'"}\n'
            else:
                body = r.body + pad
            raise Reply(r.status, body, r.ctype, r.headers)
        raise Reply(500, b"unknown fault\n")

    # -- STS ---------------------------------------------------------------------------------------
    def _sts(self, parsed, body, entry):
        if self.command not in ("GET", "POST"):
            raise Reply(405, b"")
        query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        params = dict(query)
        ctype = self.headers.get("Content-Type", "")
        if self.command == "POST" and body:
            if not ctype.lower().startswith("application/x-www-form-urlencoded"):
                raise sts_error("InvalidAction", "Could not find operation for the request content type")
            try:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                                     strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                raise sts_error("MalformedQueryString", "malformed form body", 400)
        action = params.get("Action", "")
        entry["action"] = action
        for k, name in (("RoleSessionName", "role_session_name"), ("RoleArn", "role_arn"),
                        ("DurationSeconds", "duration_seconds"), ("ExternalId", "external_id")):
            if k in params:
                entry[name] = params[k]
        if action not in STS_ACTIONS:
            entry["signature"] = "n/a"
            raise sts_error("InvalidAction", "Could not find operation %s for version %s"
                            % (action, params.get("Version", "NO_VERSION_SPECIFIED")))

        def normal():
            try:
                return self._sts_action(action, params, query, body, entry)
            except Reply as r:
                return r

        self._apply_fault("sts", action, entry, normal)

    def _sts_action(self, action, params, query, body, entry):
        st = self.state
        sts_cfg = st.cfg("sts")
        caller = None
        if action in ("AssumeRole", "GetCallerIdentity"):
            try:
                akid, caller = verify_sigv4(self.command, urllib.parse.urlsplit(self.path).path, query,
                                            self.headers, body, st.lookup, sts_cfg["region"],
                                            sts_cfg["max_skew_s"])
                entry["signature"] = "verified"
                entry["access_key_id"] = akid
                entry["caller"] = caller["principal"]
            except SigError as e:
                entry["signature"] = e.verdict
                if e.akid:
                    entry["access_key_id"] = e.akid
                raise sts_error(e.code, e.message, e.status)
        else:
            entry["signature"] = "unsigned" if "Authorization" not in self.headers else "ignored"
        rid = str(uuid.uuid4())
        if action == "GetCallerIdentity":
            arn = caller["principal"]
            m = re.match(r"^arn:[^:]+:sts::(\d{12}):assumed-role/[^/]+/(.+)$", arn)
            account = arn.split(":")[4] or st.cfg("account_id")
            user_id = ("AROA%s:%s" % (hashlib.sha1(arn.encode()).hexdigest()[:17].upper(), m.group(2)) if m
                       else "AIDA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper())
            x = ('<GetCallerIdentityResponse xmlns="%s">\n  <GetCallerIdentityResult>\n    <Arn>%s</Arn>\n'
                 '    <UserId>%s</UserId>\n    <Account>%s</Account>\n  </GetCallerIdentityResult>\n'
                 '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n'
                 '</GetCallerIdentityResponse>\n' % (STS_NS, xml_escape(arn), xml_escape(user_id), account, rid))
            return Reply(200, x.encode(), "text/xml")

        # AssumeRole / AssumeRoleWithWebIdentity: validation like STS
        errors = []
        role_arn = params.get("RoleArn")
        name = params.get("RoleSessionName")
        if role_arn is None:
            errors.append("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
        if name is None:
            errors.append("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
        else:
            if len(name) < 2:
                errors.append("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have "
                              "length greater than or equal to 2" % name)
            if len(name) > 64:
                errors.append("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have "
                              "length less than or equal to 64" % name)
            if not SESSION_NAME_RE.match(name):
                errors.append("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy "
                              "regular expression pattern: [\\w+=,.@-]*" % name)
        duration = 3600
        if "DurationSeconds" in params:
            try:
                duration = int(params["DurationSeconds"])
            except ValueError:
                raise sts_error("ValidationError", "Value '%s' at 'durationSeconds' failed to satisfy constraint: "
                                "Member must be an integer" % params["DurationSeconds"])
            if duration < 900:
                errors.append("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have "
                              "value greater than or equal to 900" % duration)
            if duration > 43200:
                errors.append("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have "
                              "value less than or equal to 43200" % duration)
        if "ExternalId" in params:
            ext = params["ExternalId"]
            if not (2 <= len(ext) <= 1224) or not EXTERNAL_ID_RE.match(ext):
                errors.append("Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy "
                              "regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224"
                              % ext)
        if errors:
            raise sts_error("ValidationError", "%d validation error%s detected: %s"
                            % (len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))
        m = ROLE_ARN_RE.match(role_arn) if role_arn is not None else None
        if not (20 <= len(role_arn) <= 2048) or not m:
            raise sts_error("ValidationError", "%s is invalid" % role_arn)
        partition, account, role_name = m.group(1), m.group(2), m.group(3)
        if duration > int(sts_cfg["role_max_session_duration_s"]):
            raise sts_error("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration "
                            "set for this role.")
        if action == "AssumeRole" and ":assumed-role/" in caller["principal"] and duration > 3600:
            raise sts_error("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit "
                            "for roles assumed by role chaining.")
        extra = ""
        if action == "AssumeRoleWithWebIdentity":
            tok = params.get("WebIdentityToken")
            if tok is None:
                raise sts_error("ValidationError", "1 validation error detected: Value null at 'webIdentityToken' "
                                "failed to satisfy constraint: Member must not be null")
            if not (4 <= len(tok) <= 20000):
                raise sts_error("ValidationError", "1 validation error detected: Value at 'webIdentityToken' "
                                "failed to satisfy constraint: Member must have length between 4 and 20000")
            expected = sts_cfg.get("expected_web_identity_token")
            if sts_cfg.get("expected_web_identity_token_file"):
                try:
                    with open(sts_cfg["expected_web_identity_token_file"], encoding="utf-8") as fh:
                        expected = fh.read().strip()
                except OSError:
                    expected = None
            if expected is not None:
                ok = secrets.compare_digest(tok.strip().encode(), expected.encode())
                entry["web_identity_token"] = "matched" if ok else "mismatch"
                if not ok:
                    raise sts_error("InvalidIdentityToken", "Incorrect token audience")
            else:
                entry["web_identity_token"] = "unchecked"
            extra = ("    <SubjectFromWebIdentityToken>system:serviceaccount:default:mskiam"
                     "</SubjectFromWebIdentityToken>\n    <Audience>sts.amazonaws.com</Audience>\n"
                     "    <Provider>arn:aws:iam::%s:oidc-provider/oidc.eks.example.com</Provider>\n" % account)
        principal = "arn:%s:sts::%s:assumed-role/%s/%s" % (partition, account, role_name, name)
        lifetime = st.cfg("credential_lifetime_s")
        lifetime = duration if lifetime is None else lifetime
        rec = st.issue(principal, lifetime)
        entry["issued_access_key_id"] = rec["access_key_id"]
        entry["principal"] = principal
        token = rec["session_token"]
        if not sts_cfg.get("single_line_session_token", True):
            token = "\n       " + "\n       ".join(token[i:i + 67] for i in range(0, len(token), 67)) + "\n      "
        if sts_cfg.get("reorder_credentials"):
            cred_xml = ("      <SessionToken>%s</SessionToken>\n      <SecretAccessKey>%s</SecretAccessKey>\n"
                        "      <Expiration>%s</Expiration>\n      <AccessKeyId>%s</AccessKeyId>\n"
                        % (token, rec["secret_access_key"], iso8601(rec["expiration_s"]), rec["access_key_id"]))
        else:
            cred_xml = ("      <AccessKeyId>%s</AccessKeyId>\n      <SecretAccessKey>%s</SecretAccessKey>\n"
                        "      <SessionToken>%s</SessionToken>\n      <Expiration>%s</Expiration>\n"
                        % (rec["access_key_id"], rec["secret_access_key"], token, iso8601(rec["expiration_s"])))
        role_id = "AROA" + hashlib.sha1(role_arn.encode()).hexdigest()[:17].upper()
        x = ('<{a}Response xmlns="{ns}">\n  <{a}Result>\n{extra}    <AssumedRoleUser>\n'
             '      <Arn>{arn}</Arn>\n      <AssumedRoleId>{rid}:{name}</AssumedRoleId>\n    </AssumedRoleUser>\n'
             '    <Credentials>\n{cred}    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n'
             '  </{a}Result>\n  <ResponseMetadata>\n    <RequestId>{req}</RequestId>\n  </ResponseMetadata>\n'
             '</{a}Response>\n').format(a=action, ns=STS_NS, extra=extra, arn=xml_escape(principal), rid=role_id,
                                         name=xml_escape(name), cred=cred_xml, req=str(uuid.uuid4()))
        return Reply(200, x.encode(), "text/xml")

    # -- IMDS --------------------------------------------------------------------------------------
    def _imds(self, path, entry):
        st = self.state
        cfg = st.cfg("imds")
        base = "/latest/meta-data/iam/security-credentials/"
        if path == "/latest/api/token":
            entry["action"] = "token"
        elif path == base:
            entry["action"] = "list"
        elif path.startswith(base):
            entry["action"] = "credentials"
        else:
            entry["action"] = "other"

        def normal():
            try:
                return self._imds_normal(path, entry, cfg, base)
            except Reply as r:
                return r

        self._apply_fault("imds", entry["action"], entry, normal)

    def _imds_normal(self, path, entry, cfg, base):
        st = self.state
        if path == "/latest/api/token":
            if self.command != "PUT":
                return Reply(405, b"", "text/plain")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            entry["ttl"] = ttl
            try:
                ttl_s = int(ttl)
            except (TypeError, ValueError):
                return Reply(400, b"", "text/plain")
            if not 1 <= ttl_s <= 21600:
                return Reply(400, b"", "text/plain")
            tok = "AQAEA" + base64.urlsafe_b64encode(secrets.token_bytes(36)).decode().rstrip("=")
            with st.lock:
                st.imds_tokens[tok] = _now() + ttl_s
            return Reply(200, tok.encode(), "text/plain",
                         {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl_s)})
        if self.command != "GET":
            return Reply(405, b"", "text/plain")
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if tok is None:
            entry["imds_token"] = "missing"
            if not cfg["allow_v1"]:
                return Reply(401, b"", "text/plain")
        else:
            with st.lock:
                exp = st.imds_tokens.get(tok)
            ok = exp is not None and exp > _now()
            entry["imds_token"] = "valid" if ok else ("expired" if exp is not None else "invalid")
            if not ok:
                return Reply(401, b"", "text/plain")
        if path == base:
            return Reply(200, cfg["role_name"].encode(), "text/plain")
        if not path.startswith(base) or path[len(base):] != cfg["role_name"]:
            return Reply(404, b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<title>404 - Not Found</title>\n",
                         "text/html")
        role_arn = cfg["role_arn"] or "arn:aws:iam::%s:role/%s" % (st.cfg("account_id"), cfg["role_name"])
        rec = self._cached_or_new("imds", role_arn, cfg["session_name"], cfg)
        entry["issued_access_key_id"] = rec["access_key_id"]
        entry["principal"] = rec["principal"]
        doc = {"Code": "Success", "LastUpdated": iso8601(rec["issued_s"]), "Type": "AWS-HMAC",
               "AccessKeyId": rec["access_key_id"], "SecretAccessKey": rec["secret_access_key"],
               "Token": rec["session_token"], "Expiration": iso8601(rec["expiration_s"])}
        return json_reply(200, doc)

    def _cached_or_new(self, key, role_arn, session_name, cfg):
        st = self.state
        lifetime = st.cfg("credential_lifetime_s")
        lifetime = cfg["lifetime_s"] if lifetime is None else lifetime
        before = cfg.get("refresh_before_s")
        before = min(300.0, lifetime / 4.0) if before is None else float(before)
        with st.lock:
            rec = st.cached.get(key)
        if rec is None or rec["expiration_s"] - _now() <= before:
            m = ROLE_ARN_RE.match(role_arn)
            part, acct, role = (m.group(1), m.group(2), m.group(3)) if m else ("aws", DEFAULT_ACCOUNT, "role")
            rec = st.issue("arn:%s:sts::%s:assumed-role/%s/%s" % (part, acct, role, session_name), lifetime)
            rec["issued_s"] = _now()
            with st.lock:
                st.cached[key] = rec
        return rec

    # -- container ---------------------------------------------------------------------------------
    def _container(self, path, entry):
        st = self.state
        cfg = st.cfg("container")
        mode = cfg["paths"][path]
        entry["action"] = mode

        def normal():
            if self.command != "GET":
                return Reply(405, b"", "text/plain")
            want = cfg.get("authorization_token")
            got = self.headers.get("Authorization")
            if want is not None:
                if got is None:
                    entry["authorization"] = "missing"
                    return json_reply(401, {"Code": "AccessDenied", "Message": "Authorization header is missing"})
                if not secrets.compare_digest(got.encode(), want.encode()):
                    entry["authorization"] = "mismatch"
                    return json_reply(401, {"Code": "AccessDenied", "Message": "Invalid Authorization token"})
                entry["authorization"] = "matched"
            else:
                entry["authorization"] = "unchecked" if got is None else "present_unchecked"
            m = ROLE_ARN_RE.match(cfg["role_arn"])
            part, acct, role = (m.group(1), m.group(2), m.group(3)) if m else ("aws", DEFAULT_ACCOUNT, "role")
            if mode == "pod-identity":
                session = "eks-%s-%s-%s" % (cfg["cluster_name"], cfg["pod_name"], uuid.uuid4())
                session = session[:64]
                lifetime = st.cfg("credential_lifetime_s")
                lifetime = cfg["lifetime_s"] if lifetime is None else lifetime
                rec = st.issue("arn:%s:sts::%s:assumed-role/%s/%s" % (part, acct, role, session), lifetime,
                               fractional=True)
                doc = {"AccessKeyId": rec["access_key_id"], "SecretAccessKey": rec["secret_access_key"],
                       "Token": rec["session_token"], "AccountId": acct,
                       "Expiration": iso8601(rec["expiration_s"], 9)}
            else:
                rec = self._cached_or_new("container:" + path, cfg["role_arn"], cfg["ecs_session_name"], cfg)
                doc = {"AccessKeyId": rec["access_key_id"], "Expiration": iso8601(rec["expiration_s"]),
                       "RoleArn": cfg["role_arn"], "SecretAccessKey": rec["secret_access_key"],
                       "Token": rec["session_token"]}
            entry["issued_access_key_id"] = rec["access_key_id"]
            entry["principal"] = rec["principal"]
            return json_reply(200, doc)

        self._apply_fault("container", [path, mode], entry, normal)


class _Handled(Exception):
    """The handler already answered (or deliberately did not)."""


class _Recorded(Exception):
    """The handler already answered (or deliberately did not) and already logged the request."""


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):  # client went away mid-answer: not our problem
        pass


def parse_base_credentials(spec):
    parts = spec.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError("expected AKID:SECRET[:ARN]")
    return {"access_key_id": parts[0], "secret_access_key": parts[1],
            "principal": parts[2] if len(parts) == 3 else None}


def make_server(registry, log=None, port=0, config=None, base_credentials=(), credential_lifetime_s=None,
                expected_web_identity_token_file=None, host="127.0.0.1"):
    """Builds the server (not started). For in-process use: threading.Thread(target=srv.serve_forever)."""
    cfg = copy.deepcopy(config or {})
    ctl = {}
    if isinstance(cfg, dict) and ("config" in cfg or "faults" in cfg):
        ctl = cfg                                  # a full control document
    else:
        ctl = {"config": cfg}
    ctl.setdefault("config", {})
    if credential_lifetime_s is not None:
        ctl["config"]["credential_lifetime_s"] = credential_lifetime_s
    if expected_web_identity_token_file:
        ctl["config"].setdefault("sts", {})["expected_web_identity_token_file"] = \
            os.path.abspath(expected_web_identity_token_file)
    state = State(registry, log, ctl, list(base_credentials))
    handler = type("BoundHandler", (Handler,), {"state": state})
    srv = Server((host, port), handler)
    srv.state = state
    return srv


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (the chaos suite: 0.0.0.0 inside its network namespace)")
    p.add_argument("--port-file", help="the bound port is written here (atomically) once listening")
    p.add_argument("--registry", required=True, help="credential registry JSON (merged, written atomically)")
    p.add_argument("--log", help="request log, JSON lines (appended)")
    p.add_argument("--base-credentials", action="append", type=parse_base_credentials, default=[],
                   metavar="AKID:SECRET[:ARN]", help="credentials accepted for signed calls (repeatable)")
    p.add_argument("--config", help="JSON file: a config object, or a control document {config, faults}")
    p.add_argument("--credential-lifetime-s", type=int)
    p.add_argument("--expected-web-identity-token-file")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop when the parent process goes away (tests that may be killed hard)")
    args = p.parse_args(argv)
    config = None
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            config = json.load(f)
    srv = make_server(args.registry, args.log, args.port, config, args.base_credentials,
                      args.credential_lifetime_s, args.expected_web_identity_token_file, args.host)
    port = srv.server_address[1]

    def on_term(signum, frame):
        srv.state.stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("aws_fakes listening on %s:%d\n" % (args.host, port))
    sys.stderr.flush()
    parent = os.getppid()
    while not srv.state.stop.wait(0.25):
        if args.exit_with_parent and os.getppid() != parent:
            break
    srv.shutdown()
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
