#!/usr/bin/python3
"""Differential test of mskiam's token against the official MSK IAM signers (tests/oracles/README.md).

Every signer signs the same random cases (credentials, region, signing instant, credential expiry,
lifetime); the decoded URLs are compared parameter by parameter, User-Agent aside. Each token's
signature is recomputed with botocore. Each signer's X-Amz-Expires, expiry and host are checked
against the behaviour docs/comparison.md describes for it, and every disagreement with the
majority must be one that document explains. Prints counts, case ids and parameter names, never
a secret. Exit status 0 only when every check passed.

  differential.py --mskiam BIN [--cases N] [--seed S] [--no-install] [--report FILE]
"""
import argparse
import base64
import collections
import datetime
import glob
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "botocore"))
from verify_tokens import frozen_botocore_clock  # noqa: E402  (botocore's clock, frozen)

CACHE = os.environ.get("MSKIAM_ORACLES_CACHE", os.path.expanduser("~/.cache/mskiam/oracles"))
OFFICIAL = ("js", "python", "go", "java")
SIGNERS = ("mskiam",) + OFFICIAL
# Signers whose clock the drivers freeze at the case's instant; the others sign at the real time.
FROZEN = {"mskiam", "js", "python"}
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
REGION_ID = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")


# --- the cases ----------------------------------------------------------------------------------

def regions():
    """Every region of every partition, from the partitions file of the pinned botocore in the
    venv (it knows the newest partitions), else Debian's."""
    pinned = glob.glob(os.path.join(CACHE, "venv/lib/python3*/site-packages/botocore/data/partitions.json"))
    for path in pinned + [os.path.join(os.path.dirname(botocore.__file__), "data/partitions.json")]:
        if os.path.exists(path):
            data = json.load(open(path))
            return sorted(r for p in data["partitions"] for r in p["regions"] if REGION_ID.match(r))
    raise SystemExit("no botocore partitions file")


def ms(text):
    return int(datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


# Instants that stress the calendar: leap days, year ends, a century that is not a leap year.
EDGES = [ms(t) for t in ("2024-02-29T23:59:59.999", "2024-02-29T00:00:00", "2024-03-01T00:00:00",
                         "2000-02-29T12:00:00", "2100-02-28T23:59:59.500", "2023-12-31T23:59:59.999",
                         "2024-12-31T23:59:59", "2025-01-01T00:00:00", "2099-12-31T23:59:59.001",
                         "2038-01-19T03:14:07.999")]

# The fixed vectors of /work/shared/reference/token.md §2.3 (V1-V7): the first cases of every run,
# so the harness itself is checked against known signatures.
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
VECTORS = [
    # access key, secret, session token, region, now_ms, expiration_ms, signature, X-Amz-Expires
    ("AKIDEXAMPLE", SECRET, "", "us-east-1", 1700000000000, -1,
     "253398ddf30b737b61a7a122a0259ada4c7162423af560094b2f4edef8033616", 900),
    ("ASIAEXAMPLE", SECRET, "IQoJb3JpZ2luX2VjEXAMPLE/+=token", "us-west-2", 1700000000123, -1,
     "e2cd1051dc5e0be734a303e9cf923757ee978e38bc5503869a63a43f4ba094e3", 900),
    ("ASIAQEXAMPLEEXAMPLE1", "abcdEFGH/ijkl+MNOP=qrstUVWXyz0123456789", "FwoGZXIvYXdzEBYaDK1/EXAMPLE+TOKEN==",
     "eu-central-1", 1709251199999, -1, "1a8c5b58c45fc78216c65b6ef4f39c32031fdf332dc6104af2cd42cf23a366f4", 900),
    ("AKIDEXAMPLE", SECRET, "", "us-gov-west-1", 1700000000000, -1,
     "f8770fe17067f5a206ff5134a157e084f0375b1b103c75321e12919e16bbfb44", 900),
    ("AKIDEXAMPLE", SECRET, "", "cn-north-1", 1700000000000, -1,
     "94b24c50d84db72f5ecdc371ef065ce2e41f676f0647d54cd9543b12d4077287", 900),  # .amazonaws.com
    ("ASIAEXAMPLE", SECRET, "tok", "us-west-2", 1700000000123, 1700000600623,
     "7dfb981704b24550d74214b7722321f436cecf9d8bd1bbeba710cc400d13230d", 600.5),  # JS only
    ("ASIAEXAMPLE", SECRET, "tok", "us-west-2", 1700000000123, 1700003600000,
     "28705e5a1112fd25447c61a3b30f71fafdc4e4a3899d45fc5c1348a8ec228c66", 900),
]


def make_cases(count, seed):
    rng = random.Random(seed)
    region_list = regions()
    text = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))  # noqa: E731
    cases = []
    for v in VECTORS:
        cases.append({"id": len(cases), "access_key": v[0], "secret": v[1], "session_token": v[2],
                      "region": v[3], "now_ms": v[4], "expiration_ms": v[5], "lifetime": 900,
                      "vector": [v[6], v[7]]})
    while len(cases) < count:
        i = len(cases)
        session = rng.choice(["none", "none", "2000", "random", "random", "random"])
        token = {"none": "", "2000": text(B64, 2000), "random": text(B64, rng.randint(1, 1200))}[session]
        if rng.random() < 0.5:
            now_ms = rng.choice(EDGES) + rng.randint(-2000, 2000)
        else:
            now_ms = rng.randint(ms("2000-01-01T00:00:00"), ms("2099-12-31T23:59:59"))
        # Credential expiry: none, shorter than the lifetime, longer, or within a second or two
        # of the signing instant (already expired included).
        kind = rng.choice(["none", "none", "short", "short", "long", "edge"])
        expiration_ms = {"none": -1, "short": now_ms + rng.randint(1000, 900_000),
                         "long": now_ms + rng.randint(900_001, 12 * 3600_000),
                         "edge": now_ms + rng.randint(-2000, 2000)}[kind]
        cases.append({
            "id": i,
            "access_key": rng.choice(["AKIA", "ASIA"]) + text(UPPER, 16),
            "secret": text(B64, 40),
            "session_token": token,
            "region": rng.choice(region_list),
            "now_ms": now_ms,
            "expiration_ms": expiration_ms,
            "lifetime": 900 if rng.random() < 0.5 else rng.randint(1, 899),
        })
    return cases


# --- running the signers ------------------------------------------------------------------------

def run_driver(name, argv, env, cases):
    """Feeds every case to one long-lived driver; returns answers by id and the wall-clock window."""
    payload = "".join(json.dumps(c) + "\n" for c in cases)
    start = time.time()
    proc = subprocess.run(argv, input=payload, capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=600)
    end = time.time()
    if proc.returncode != 0:
        raise RuntimeError("%s driver exited %d" % (name, proc.returncode))
    answers = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            a = json.loads(line)
            answers[a["id"]] = a
    return answers, start, end


def decode(token):
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    raw = dict(kv.split("=", 1) for kv in parts.query.split("&"))  # as encoded in the URL
    return {"scheme": parts.scheme, "host": parts.netloc, "path": parts.path, "params": dict(pairs),
            "raw": raw}


# --- what each signer is documented to do (docs/comparison.md) ----------------------------------

def official_host(region):
    return "kafka.%s.amazonaws.com" % region


def expected(signer, case, signed_s, answer):
    """(X-Amz-Expires as a set of numbers, host), or None when the signer refuses."""
    e, now = case["expiration_ms"], case["now_ms"]
    if signer == "java" and not answer.get("sdk_lists_region", True):
        return None  # it looks the region up again in the host, among its SDK's regions
    if signer == "mskiam":
        if e >= 0:
            remaining = (e - signed_s * 1000) // 1000
            if e <= now or remaining < 1:
                return None
            return {min(case["lifetime"], remaining)}, official_host(case["region"])
        return {case["lifetime"]}, official_host(case["region"])
    if signer == "js":
        return {min((e - now) / 1000, 900) if e >= 0 else 900}, official_host(case["region"])
    if signer == "java":  # the expiry instant is read before the signing instant: 900 or 899
        return {900, 899}, official_host(case["region"])
    return {900}, official_host(case["region"])


def botocore_signature(case, token, expires):
    """The signature botocore computes for the token's own host, X-Amz-Date and X-Amz-Expires."""
    when = datetime.datetime.strptime(token["params"]["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    creds = botocore.credentials.Credentials(case["access_key"], case["secret"],
                                             case["session_token"] or None)
    request = botocore.awsrequest.AWSRequest(method="GET", url="https://%s/" % token["host"],
                                             params={"Action": "kafka-cluster:Connect"})
    signer = botocore.auth.SigV4QueryAuth(creds, "kafka-cluster", case["region"], expires=expires)
    with frozen_botocore_clock(when):
        signer.add_auth(request)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))["X-Amz-Signature"]


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


# --- comparing one case -------------------------------------------------------------------------

class Findings:
    def __init__(self):
        self.known = collections.defaultdict(set)  # (label, signer) -> case ids
        self.failures = []                         # text lines, no secrets

    def note(self, label, signer, case_id):
        self.known[(label, signer)].add(case_id)

    def fail(self, case_id, signer, text):
        self.failures.append("case %d, %s: %s" % (case_id, signer, text))


def check_case(case, answers, windows, findings):
    """Checks every signer's answer to one case against its documented behaviour and botocore,
    then compares the answers parameter by parameter."""
    cid = case["id"]
    capped = case["expiration_ms"] >= 0 and case["expiration_ms"] - case["now_ms"] < 900_000
    views = {}  # signer -> comparable parameters
    for signer, answer in answers.items():
        if answer is None:
            findings.fail(cid, signer, "no answer")
            continue
        if "error" in answer:
            if expected(signer, case, case["now_ms"] // 1000, answer) is not None:
                findings.fail(cid, signer, "refused a case it should sign (%s)" % answer["error"])
            elif signer == "java":
                findings.note("refuses a region its AWS SDK does not list", signer, cid)
            elif case["expiration_ms"] <= case["now_ms"]:
                findings.note("refuses expired credentials", signer, cid)
            else:
                findings.note("refuses credentials expiring within the signing second", signer, cid)
            continue
        try:
            t = dict(decode(answer["token"]), expiry_ms=answer["expiry_ms"])
        except (ValueError, UnicodeDecodeError):
            findings.fail(cid, signer, "token is not base64url of a URL")
            continue
        p = t["params"]
        date = p.get("X-Amz-Date", "")
        try:
            signed_s = int(datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp())
        except ValueError:
            findings.fail(cid, signer, "X-Amz-Date %r" % date)
            continue
        if signer in FROZEN and signed_s != case["now_ms"] // 1000:
            findings.fail(cid, signer, "X-Amz-Date is not the frozen clock's second")
        if signer not in FROZEN and not windows[signer][0] - 1 <= signed_s <= windows[signer][1] + 1:
            findings.fail(cid, signer, "X-Amz-Date is outside the run's wall-clock window")
        model = expected(signer, case, signed_s if signer == "mskiam" else case["now_ms"] // 1000, answer)
        if model is None:
            findings.fail(cid, signer, "signed a case it should refuse")
            continue
        expires_model, host_model = model
        expires = number(p.get("X-Amz-Expires"))
        if expires is None or not any(math.isclose(expires, m, abs_tol=1e-6) for m in expires_model):
            findings.fail(cid, signer, "X-Amz-Expires %s, its documented rule gives %s" % (
                p.get("X-Amz-Expires"), sorted(expires_model)))
            continue
        if t["host"] != host_model:
            findings.fail(cid, signer, "host %s, documented %s" % (t["host"], host_model))
        if not math.isclose(t["expiry_ms"], signed_s * 1000 + expires * 1000, abs_tol=1e-3):
            findings.fail(cid, signer, "expiry %s is not X-Amz-Date + X-Amz-Expires" % t["expiry_ms"])
        if botocore_signature(case, t, p.get("X-Amz-Expires")) != p.get("X-Amz-Signature"):
            findings.fail(cid, signer, "botocore computes another signature")
        vector = case.get("vector")
        if vector and signer in FROZEN and t["host"] == official_host(case["region"]) and \
                expires == vector[1] and p.get("X-Amz-Signature") != vector[0]:
            findings.fail(cid, signer, "signature differs from the published vector")

        # What a broker would refuse or a client would trip on, per signer (docs/comparison.md).
        if expires != int(expires):
            findings.note("fractional X-Amz-Expires", signer, cid)
        if expires <= 0:
            findings.note("X-Amz-Expires <= 0: expired when issued", signer, cid)
        # Against the case's instant: the unfrozen signers' tokens are compared by their lifetime.
        if case["expiration_ms"] >= 0 and expires * 1000 > case["expiration_ms"] - (
                signed_s * 1000 if signer in FROZEN else case["now_ms"]):
            findings.note("token outlives its credentials", signer, cid)
        if case["expiration_ms"] >= 0 and case["expiration_ms"] <= case["now_ms"]:
            findings.note("signs with expired credentials", signer, cid)
        if signer == "mskiam":
            if not (1 <= expires <= 900 and expires == int(expires)):
                findings.fail(cid, signer, "X-Amz-Expires outside 1..900 or not whole")
            if case["expiration_ms"] >= 0 and t["expiry_ms"] > case["expiration_ms"]:
                findings.fail(cid, signer, "token outlives its credentials")

        view = {k: v for k, v in p.items() if k != "User-Agent"}
        view["(scheme)"] = t["scheme"]
        view["(host)"] = t["host"]
        view["(path)"] = t["path"]
        # The signed values as each signer percent-encodes them (the scope's date aside).
        raw = dict(t["raw"])
        raw["X-Amz-Credential"] = raw.get("X-Amz-Credential", "").replace(date[:8], "<date>", 1)
        view["(encoding)"] = "&".join("%s=%s" % (k, raw.get(k)) for k in (
            "Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Security-Token", "X-Amz-SignedHeaders"))
        view["(lifetime ms)"] = "%.3f" % (t["expiry_ms"] - signed_s * 1000)
        # The credential scope's date must be the signer's own X-Amz-Date; compared without it,
        # since the unfrozen signers sign at the real time.
        cred = view.get("X-Amz-Credential", "").split("/")
        if len(cred) != 5 or cred[1] != date[:8]:
            findings.fail(cid, signer, "X-Amz-Credential's date is not X-Amz-Date's")
        else:
            cred[1] = "<date>"
            view["X-Amz-Credential"] = "/".join(cred)
        if signer not in FROZEN:
            # X-Amz-Date and so the signature cannot match the others' (the signature was
            # verified with botocore above).
            view.pop("X-Amz-Date", None)
            view.pop("X-Amz-Signature", None)
        views[signer] = view

    compare(case, views, capped, findings)


SIGNED = ("(host)", "Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
          "X-Amz-Security-Token", "X-Amz-SignedHeaders")


def compare(case, views, capped, findings):
    """Parameter by parameter. A value held by more than half of the signers that compare the
    parameter is the majority; every other value (all of them when there is no majority) must have
    a documented reason. Signatures are compared only between signers that signed the same inputs
    at the same second: they are verified with botocore in any case."""
    cid = case["id"]
    names = sorted(set().union(*views.values()) - {"X-Amz-Signature"}) if views else []
    for name in names:
        values = {signer: view.get(name, "<absent>") for signer, view in views.items()
                  if signer in FROZEN or name != "X-Amz-Date"}
        counts = collections.Counter(values.values())
        if len(counts) < 2:
            continue
        top, n = counts.most_common(1)[0]
        majority = top if n * 2 > len(values) else None
        for signer, value in values.items():
            if value == majority:
                continue
            label = explain(name, signer, case, capped)
            if label is None:
                shown = "<withheld>" if name in ("X-Amz-Security-Token", "(encoding)") else value[:80]
                findings.fail(cid, signer, "%s is %r, unlike %s" % (
                    name, shown, "the majority" if majority else "the others"))
            else:
                findings.note(label, signer, cid)
    frozen = [s for s in views if s in FROZEN]
    for i, a in enumerate(frozen):
        for b in frozen[i + 1:]:
            same_inputs = all(views[a].get(k) == views[b].get(k) for k in SIGNED)
            if same_inputs and views[a].get("X-Amz-Signature") != views[b].get("X-Amz-Signature"):
                findings.fail(cid, "%s/%s" % (a, b), "same signed inputs, different signatures")


def explain(name, signer, case, capped):
    """The documented reason a signer's parameter differs from the others', or None."""
    lifetime = name in ("X-Amz-Expires", "(lifetime ms)")
    cap = (case["expiration_ms"] - case["now_ms"]) / 1000 if case["expiration_ms"] >= 0 else None
    if name == "(path)" and signer == "java":
        return "URL without the / path"
    if lifetime and signer == "mskiam":
        if capped and cap < case["lifetime"] + 1:
            return "X-Amz-Expires capped by credential expiry, whole seconds"
        if case["lifetime"] < 900:
            return "X-Amz-Expires = the configured lifetime (< 900)"
    if lifetime and signer == "js" and capped:
        return "X-Amz-Expires capped by credential expiry, as a JS number"
    if lifetime and signer in ("python", "go", "java"):
        if capped:
            return "X-Amz-Expires 900: credential expiry ignored"
        if case["lifetime"] < 900:
            return "X-Amz-Expires 900: no lifetime option"
        return "X-Amz-Expires 899: expiry read before the signing second" if signer == "java" else None
    return None


# --- the run ------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mskiam", required=True, help="the mskiam-oracle harness")
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=None, help="replay a run")
    parser.add_argument("--no-install", action="store_true", help="use the drivers as installed")
    parser.add_argument("--report", help="write the counts as JSON here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print("differential: seed %d (replay: --seed %d), %d cases" % (seed, seed, args.cases), flush=True)

    if not args.no_install:
        subprocess.run(["bash", os.path.join(HERE, "install.sh")], check=False)
    drivers = json.load(open(os.path.join(CACHE, "drivers.json")))
    drivers["mskiam"] = {"argv": [args.mskiam], "env": {}}
    missing = [s for s in SIGNERS if s not in drivers]

    cases = make_cases(args.cases, seed)
    answers, windows, seconds = {}, {}, {}
    for signer in SIGNERS:
        if signer in missing:
            continue
        answers[signer], start, end = run_driver(signer, drivers[signer]["argv"], drivers[signer]["env"], cases)
        windows[signer], seconds[signer] = (start, end), end - start
        print("differential: %-6s %5d answers in %.1f s" % (signer, len(answers[signer]), end - start), flush=True)

    findings = Findings()
    for signer in missing:
        findings.failures.append("%s: not installed (see tests/oracles/install.sh output)" % signer)
    compared = 0
    for case in cases:
        check_case(case, {s: by_id.get(case["id"]) for s, by_id in answers.items()}, windows, findings)
        compared += 1

    print("\nknown differences (label, signer: cases, first case id):")
    for (label, signer), ids in sorted(findings.known.items()):
        print("  %-58s %-6s %5d  (case %d)" % (label, signer, len(ids), min(ids)))
    for line in findings.failures[:50]:
        print("FAIL " + line)
    if len(findings.failures) > 50:
        print("FAIL ... and %d more" % (len(findings.failures) - 50))
    if args.report:
        json.dump({"seed": seed, "cases": len(cases), "seconds": seconds,
                   "known": [[label, signer, len(ids)] for (label, signer), ids in sorted(findings.known.items())],
                   "failures": len(findings.failures)}, open(args.report, "w"), indent=1)
    print("\ndifferential: %d cases x %d signers compared, seed %d: %d passed, %d failed" % (
        compared, len(answers), seed, compared - len({f.split(",")[0] for f in findings.failures}),
        len({f.split(",")[0] for f in findings.failures})))
    return 0 if not findings.failures and compared == args.cases else 1


if __name__ == "__main__":
    sys.exit(main())
