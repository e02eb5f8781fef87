#!/usr/bin/python3
"""Tokens per second of botocore's SigV4 presign over the MSK request, built the way the official
Python signer (aws-msk-iam-sasl-signer-python) builds it: AWSRequest GET
https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect, SigV4QueryAuth(expires=900),
User-Agent appended, base64url without padding. The inputs are mskiam-bench's.
Usage: botocore_signer.py SECONDS session|nosession. Prints one JSON line."""
import base64
import json
import sys
import time

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials

REGION = "us-east-1"
URL = "https://kafka.%s.amazonaws.com/?Action=kafka-cluster%%3AConnect" % REGION
USER_AGENT = "aws-msk-iam-sasl-signer-python/botocore-" + botocore.__version__


def session_token():
    s = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+"
    while len(s) < 440:
        s += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3="
    return s[:440] + "Zz=="


def token(credentials):
    request = botocore.awsrequest.AWSRequest(method="GET", url=URL)
    botocore.auth.SigV4QueryAuth(credentials, "kafka-cluster", REGION, expires=900).add_auth(request)
    url = request.url + "&User-Agent=" + USER_AGENT
    return base64.urlsafe_b64encode(url.encode("utf-8")).decode("utf-8").rstrip("=")


def run(credentials, budget, chunks):
    """`chunks` slices of budget/chunks; also returns the fastest slice's rate (CPU time), the
    one least disturbed by other load, which scripts/bench.sh compares."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    calls, best, last = 0, 0.0, ""
    for _ in range(chunks):
        start, start_cpu, n = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - start < budget / chunks:
            for _ in range(50):
                last = token(credentials)
            n += 50
        best = max(best, n / (time.process_time() - start_cpu))
        calls += n
    return calls, time.perf_counter() - wall0, time.process_time() - cpu0, best, last


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    with_session = len(sys.argv) > 2 and sys.argv[2] == "session"
    credentials = botocore.credentials.Credentials(
        "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token() if with_session else None)
    run(credentials, min(1.0, seconds / 3), 1)
    calls, wall, cpu, best, last = run(credentials, seconds, 6)
    print(json.dumps({
        "signer": "botocore SigV4QueryAuth", "version": botocore.__version__,
        "session_token": with_session, "calls": calls, "wall_s": wall, "cpu_s": cpu,
        "tokens_per_s_wall": calls / wall, "tokens_per_s_cpu": calls / cpu,
        "tokens_per_s_cpu_best": best,
        "token_bytes": len(last)}))


if __name__ == "__main__":
    main()
