"""The official Python signer (aws-msk-iam-sasl-signer-python) as an oracle, run by the venv's
Python (see ../install.sh), in one of two modes:
  oracle.py                                signing cases as JSON lines on stdin (../README.md), one
                                           answer line per case on stdout, clock frozen per case
  oracle.py --bench SECONDS session|nosession
                                           tokens per second in a warm loop, real clock
Both go through generate_auth_token_from_credentials_provider with a provider returning the
case's static credentials."""
import datetime
import json
import resource
import sys
import time
from importlib.metadata import version

import botocore.auth
import botocore.credentials
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

SIGNER_VERSION = version("aws-msk-iam-sasl-signer-python")


class StaticProvider(botocore.credentials.CredentialProvider):
    """The signer accepts only a botocore CredentialProvider; this one hands back one set."""

    METHOD = "static-oracle"

    def __init__(self, credentials):
        super().__init__()
        self.credentials = credentials

    def load(self):
        return self.credentials


# The signer's only clock is botocore's SigV4QueryAuth, which stamps X-Amz-Date with
# botocore.auth.get_current_datetime() (botocore >= 1.32; a naive UTC datetime). Replacing that
# module attribute freezes it; the expiry the signer returns is derived from X-Amz-Date.
real_clock = botocore.auth.get_current_datetime
frozen = None


def clock(*args, **kwargs):
    return frozen if frozen is not None else real_clock(*args, **kwargs)


botocore.auth.get_current_datetime = clock


def credentials_of(case):
    # The expiry is not given: the signer takes static botocore Credentials, which have none, and
    # it signs 900 s whatever the credentials' expiry.
    return botocore.credentials.Credentials(case["access_key"], case["secret"],
                                            case["session_token"] or None)


def answer_cases():
    global frozen
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        provider = StaticProvider(credentials_of(case))
        frozen = datetime.datetime.fromtimestamp(case["now_ms"] / 1000, datetime.timezone.utc)
        frozen = frozen.replace(tzinfo=None)
        try:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
                case["region"], provider)
            answer = {"id": case["id"], "token": token, "expiry_ms": expiry_ms}
        except Exception as e:  # noqa: BLE001 - the class name only: messages may quote inputs
            answer = {"id": case["id"], "error": type(e).__name__}
        finally:
            frozen = None
        sys.stdout.write(json.dumps(answer) + "\n")


def bench_credentials(with_session):
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+"
    while len(token) < 440:
        token += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3="
    token = token[:440] + "Zz=="
    return botocore.credentials.Credentials("AKIAIOSFODNN7EXAMPLE",
                                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                            token if with_session else None)


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(provider, budget, chunks):
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    calls, best, token = 0, 0.0, ""
    for _ in range(chunks):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        n = 0
        while time.perf_counter() - start < budget / chunks:
            for _ in range(50):
                token, _ = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
                    "us-east-1", provider)
            n += 50
        best = max(best, n / max(cpu_seconds() - start_cpu, 1e-9))
        calls += n
    return calls, time.perf_counter() - wall0, cpu_seconds() - cpu0, best, token


def bench(seconds, with_session):
    provider = StaticProvider(bench_credentials(with_session))
    run(provider, min(1.0, seconds / 3), 1)  # warm-up
    calls, wall, cpu, best, token = run(provider, seconds, 6)
    print(json.dumps({
        "signer": "aws-msk-iam-sasl-signer-python", "version": SIGNER_VERSION,
        "runtime": "python %d.%d.%d" % sys.version_info[:3], "session_token": with_session,
        "calls": calls, "wall_s": wall, "cpu_s": cpu, "tokens_per_s_wall": calls / wall,
        "tokens_per_s_cpu": calls / cpu, "tokens_per_s_cpu_best": best, "token_bytes": len(token)}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bench":
        bench(float(sys.argv[2]), sys.argv[3] == "session")
    else:
        answer_cases()
