#!/usr/bin/python3
"""Recomputes the signature of every token the C++ generator prints, with botocore's SigV4 query
signer, and checks the lifetime rules independently. Prints counts and failing case numbers,
never a secret. Usage: verify_tokens.py GENERATOR COUNT [SEED] (default: a new seed, printed)"""
import base64
import datetime
import json
import secrets
import subprocess
import sys
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials


class frozen_botocore_clock:
    """botocore stamps requests with its own clock: datetime.datetime.utcnow() in the 1.29 that
    Debian 12 ships, get_current_datetime() in newer releases. Both are frozen at `when`."""

    def __init__(self, when):
        self.when = when

    def __enter__(self):
        when = self.when

        class Frozen(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when

        class Module:
            pass

        shim = Module()
        shim.__dict__.update(vars(datetime))
        shim.datetime = Frozen
        self.saved = botocore.auth.datetime, getattr(botocore.auth, "get_current_datetime", None)
        botocore.auth.datetime = shim
        if self.saved[1] is not None:
            botocore.auth.get_current_datetime = lambda *a, **k: when

    def __exit__(self, *exc):
        botocore.auth.datetime = self.saved[0]
        if self.saved[1] is not None:
            botocore.auth.get_current_datetime = self.saved[1]


def expected_host(region):
    return "kafka.%s.amazonaws.com" % region


def verify(case):
    padded = case["token"] + "=" * (-len(case["token"]) % 4)
    url = base64.urlsafe_b64decode(padded).decode()
    parts = urllib.parse.urlsplit(url)
    params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
    problems = []
    if parts.netloc != expected_host(case["region"]):
        problems.append("host %s" % parts.netloc)
    if "=" in case["token"] or "+" in case["token"] or "/" in case["token"]:
        problems.append("token is not unpadded base64url")

    signed_at = case["now_ms"] // 1000
    lifetime = case["lifetime"]
    if case["expiration_ms"] >= 0:
        lifetime = min(lifetime, (case["expiration_ms"] - signed_at * 1000) // 1000)
    if params.get("X-Amz-Expires") != str(lifetime):
        problems.append("X-Amz-Expires %s, expected %d" % (params.get("X-Amz-Expires"), lifetime))
    if case["expires_at_ms"] != (signed_at + lifetime) * 1000:
        problems.append("expires_at_ms")
    if case["expiration_ms"] >= 0 and case["expires_at_ms"] > case["expiration_ms"]:
        problems.append("token outlives its credentials")
    if case["session_token"] and params.get("X-Amz-Security-Token") != case["session_token"]:
        problems.append("session token not carried")

    # botocore signs the same request at the same second; its signature must equal ours.
    when = datetime.datetime.fromtimestamp(signed_at, datetime.timezone.utc).replace(tzinfo=None)
    creds = botocore.credentials.Credentials(case["access_key"], case["secret"],
                                             case["session_token"] or None)
    request = botocore.awsrequest.AWSRequest(
        method="GET", url="https://%s/" % expected_host(case["region"]),
        params={"Action": "kafka-cluster:Connect"})
    signer = botocore.auth.SigV4QueryAuth(creds, "kafka-cluster", case["region"], expires=lifetime)
    with frozen_botocore_clock(when):
        signer.add_auth(request)
    # Every parameter of botocore's URL (Action, Algorithm, Credential, Date, Expires,
    # SignedHeaders, Security-Token, Signature) must be ours, and ours have nothing else but the
    # unsigned User-Agent.
    theirs = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query, keep_blank_values=True))
    ours = {k: v for k, v in params.items() if k != "User-Agent"}
    for name in sorted(set(theirs) | set(ours)):
        if theirs.get(name) != ours.get(name):
            problems.append("%s differs from botocore's" % name)
    return problems


def main():
    generator, count = sys.argv[1], int(sys.argv[2])
    # A new seed each run, printed so that a failure can be replayed with it.
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else secrets.randbits(63)
    print("seed %d (replay: verify_tokens.py GENERATOR %d %d)" % (seed, count, seed))
    output = subprocess.run([generator, str(count), str(seed)], check=True, capture_output=True,
                            text=True).stdout
    cases = [json.loads(line) for line in output.splitlines() if line.strip()]
    failed = 0
    for number, case in enumerate(cases):
        problems = verify(case)
        if problems:
            failed += 1
            print("case %d (%s): %s" % (number, case["region"], "; ".join(problems)))
    print("botocore verified %d tokens: %d passed, %d failed" % (len(cases), len(cases) - failed, failed))
    return 0 if cases and len(cases) == count and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
