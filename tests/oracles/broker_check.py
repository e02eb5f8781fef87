#!/usr/bin/python3
"""Presents each signer's token for every kind of disagreement of docs/comparison.md to the test
broker (tests/kafka/broker.py: a real Kafka broker with an MSK IAM validator), through a real
client (confluent-kafka's oauth_cb), and prints what happened to each: accepted, refused by the
broker (its reason), or refused by the client before sending it. It fails when one of mskiam's
tokens is not accepted (mskiam refusing to sign with expired credentials is its documented answer)
or when a token got no verdict at all; the official signers' verdicts are printed for the record
(docs/comparison.md explains them).

The tokens are signed at the current time (the broker refuses a clock skew over 300 s), so the
clocks are not frozen here: each signer signs at the instant the batch starts (JS, Python, mskiam)
or at its own real time (Go, Java). Prints access key ids and reasons, never a secret.

  broker_check.py --mskiam BIN [--kafka-dir tests/kafka] [--no-install]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import differential  # noqa: E402  (drivers, decoding)

B64 = differential.B64

# (name, region, seconds until the credentials expire or None, mskiam's lifetime, session token?)
KINDS = [
    ("credentials valid 1 h", "us-east-1", 3600, 900, True),
    ("no session token, no expiry", "us-east-1", None, 900, False),
    ("credentials expire in 600.5 s", "us-east-1", 600.5, 900, True),
    ("credentials expired 5 s ago", "us-east-1", -5, 900, True),
    ("mskiam lifetime 300 s", "us-east-1", None, 300, True),
    ("China region", "cn-north-1", 3600, 900, True),
]


def present(bootstrap, token, expiry_ms, broker):
    """One connection with this token; the validator's verdict, or the client's refusal."""
    import confluent_kafka

    errors = []
    before = len(broker.events())

    def oauth_cb(_config):
        return token, expiry_ms / 1000.0

    client = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "OAUTHBEARER", "oauth_cb": oauth_cb,
        "error_cb": lambda e: errors.append(e.str()), "socket.timeout.ms": 3000, "log_level": 0})
    # The client asks oauth_cb for its token from poll(); the validator's verdict lands in the
    # broker's event log.
    deadline = time.time() + 6
    while time.time() < deadline:
        try:
            client.poll(0.2)
        except ValueError as e:  # librdkafka checks the expiry oauth_cb returns
            return "client refused it: " + str(e).split(":")[0]
        new = [e for e in broker.events()[before:] if e["event"] in ("token_accepted", "token_refused")]
        if new:
            e = new[0]
            return "accepted" if e["event"] == "token_accepted" else "refused: " + e["reason"]
        if any("token" in t.lower() or "expir" in t.lower() for t in errors):
            break
    for text in errors:
        if "token" in text.lower() or "expir" in text.lower():
            return "client refused it: " + text.split(":")[-1].strip()[:70]
    return "no verdict (%s)" % (errors[0][:70] if errors else "no error either")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mskiam", required=True)
    parser.add_argument("--kafka-dir", default=os.path.join(HERE, "..", "kafka"))
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.kafka_dir))
    import broker as kafka_broker

    if not args.no_install:
        subprocess.run(["bash", os.path.join(HERE, "install.sh")], check=True)
    drivers = json.load(open(os.path.join(differential.CACHE, "drivers.json")))
    drivers["mskiam"] = {"argv": [args.mskiam], "env": {}}
    rng = random.Random()
    text = lambda n: "".join(rng.choice(B64) for _ in range(n))  # noqa: E731
    work = tempfile.mkdtemp(prefix="oracles-broker-")
    results = []
    for region in sorted({k[1] for k in KINDS}):
        kinds = [k for k in KINDS if k[1] == region]
        now_ms = int(time.time() * 1000)
        registry, cases = {}, []
        for i, (name, _, expires_in, lifetime, session) in enumerate(kinds):
            key = "ASIAORACLE%02d%s" % (i, "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8)))
            expiration_ms = -1 if expires_in is None else now_ms + int(expires_in * 1000)
            secret, session_token = text(40), text(600) if session else ""
            registry[key] = {"secret_access_key": secret, "principal": "arn:aws:iam::123456789012:role/oracle",
                             "expiration_ms": None if expiration_ms < 0 else expiration_ms}
            if session_token:  # temporary credentials: accepted only with their session token
                registry[key]["session_token"] = session_token
            cases.append({"id": i, "access_key": key, "secret": secret,
                          "session_token": session_token, "region": region,
                          "now_ms": now_ms, "expiration_ms": expiration_ms, "lifetime": lifetime})
        registry_path = os.path.join(work, "registry-%s.json" % region)
        json.dump(registry, open(registry_path, "w"))
        answers = {s: differential.run_driver(s, d["argv"], d["env"], cases)[0] for s, d in drivers.items()}
        broker = kafka_broker.KafkaBroker(os.path.join(work, region), registry_path, region).start()
        try:
            for case, kind in zip(cases, kinds):
                for signer in differential.SIGNERS:
                    a = answers.get(signer, {}).get(case["id"])
                    if a is None:
                        verdict = "not run"
                    elif "error" in a:
                        verdict = "no token: the signer refused (%s)" % a["error"][:40]
                    else:
                        params = differential.decode(a["token"])["params"]
                        verdict = "X-Amz-Expires=%s, %s" % (
                            params.get("X-Amz-Expires"), present(broker.bootstrap, a["token"], a["expiry_ms"], broker))
                    results.append((kind[0], signer, verdict))
                    print("%-30s %-6s %s" % (kind[0], signer, verdict), flush=True)
        finally:
            broker.stop()
    failed = [r for r in results if "no verdict" in r[2] or r[1] == "mskiam" and not (
        r[2].endswith("accepted") or r[0] == "credentials expired 5 s ago" and r[2].startswith("no token"))]
    for kind, signer, verdict in failed:
        print("FAIL %s, %s: %s" % (kind, signer, verdict))
    print("broker check: %d tokens presented: %d passed, %d failed" % (
        len(results), len(results) - len(failed), len(failed)))
    return 0 if results and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
