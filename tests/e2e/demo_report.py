#!/usr/bin/python3
"""Summary of a scripts/demo.sh run, from what the broker logged and the clients' output.

    demo_report.py RUN_DIR [--incident] [--kafka]

RUN_DIR holds events.jsonl (the emulator's, or with --kafka the validator's, beside Kafka's
metrics.json and kafka/broker.log), producer.out/.err and consumer.out/.err (the examples).
"""

import collections
import json
import os
import re
import sys
import time


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def summary_line(text):
    for line in reversed(text.splitlines()):
        if line.startswith("summary "):
            return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}
    return {}


def values(text, verb):
    return [line.split()[2] for line in text.splitlines()
            if line.startswith(verb + " ") and len(line.split()) == 3]


def short(principal):
    """arn:aws:sts::123456789012:assumed-role/MskRole/orders-api -> MskRole/orders-api"""
    if not principal:
        return "?"
    name = principal.split(":")[-1].replace("assumed-role/", "")
    return re.sub(r"([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r"\1..", name)


def emulator_facts(run):
    """What the broker emulator logged: every authentication with its connection and client."""
    events = [json.loads(line) for line in read(os.path.join(run, "events.jsonl")).splitlines()
              if line.strip()]
    t0 = next((e["ts_ms"] for e in events if e["event"] == "connection_opened"), 0)
    auths = [e for e in events if e["event"] == "authenticated"]
    timeline = []
    seen_keys = {}
    client_of = {a["conn"]: a.get("client_id", "?").replace("mskiam-", "") for a in auths}
    for e in events:
        t = (e["ts_ms"] - t0) / 1000.0
        kind = e["event"]
        if kind == "authenticated":
            who = e.get("client_id", "?").replace("mskiam-", "")
            if not e["reauth"]:
                timeline.append((t, who, "new connection, authenticated as %s" % short(e["principal"])))
            elif seen_keys.get(e["conn"]) != e["access_key_id"]:
                timeline.append((t, who, "re-authenticated on the same connection with rotated "
                                         "credentials (%s)" % e["access_key_id"]))
            seen_keys[e["conn"]] = e["access_key_id"]
        elif kind == "reauth_refused_principal_change":
            timeline.append((t, client_of.get(e["conn"], "?"), REFUSED % (short(e["old"]),
                                                                          short(e["new"]))))
        elif kind == "session_expired_disconnect":
            timeline.append((t, "broker", "closed an expired session (this librdkafka does not "
                                          "re-authenticate)"))
        elif kind == "auth_failed" and "Cannot change principals" not in e.get("reason", ""):
            timeline.append((t, "broker", "authentication failed: %s" % e["reason"]))
    return {
        "source": "the broker emulator's log",
        "timeline": timeline,
        "by_principal": collections.Counter(a["principal"] for a in auths),
        "keys": {a["access_key_id"] for a in auths},
        "authentications": len(auths),
        "reauthentications": len([a for a in auths if a["reauth"]]),
        "connections": len([e for e in events if e["event"] == "connection_opened"]),
        "refusals": len([e for e in events if e["event"] == "reauth_refused_principal_change"]),
        "failures": len([e for e in events if e["event"] == "auth_failed" and
                         "Cannot change principals" not in e.get("reason", "")]),
        "expired": len([e for e in events if e["event"] == "session_expired_disconnect"]),
        "rebalances": len([e for e in events if e["event"] == "group_rebalance"]),
    }


KAFKA_REFUSAL = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\].*Failed re-authentication"
                           r".*Cannot change principals during re-authentication from IAM\.(\S+): "
                           r"IAM\.(\S+?)\)")


def kafka_facts(run):
    """What the real Kafka broker decided: its socket-server metrics, the validator's log of every
    token it accepted or refused, and Kafka's own log for the principal-change refusals."""
    events = [json.loads(line) for line in read(os.path.join(run, "events.jsonl")).splitlines()
              if line.strip()]
    try:
        metrics = json.loads(read(os.path.join(run, "metrics.json")) or "{}").get("socket_server", {})
    except ValueError:
        metrics = {}
    accepted = [e for e in events if e["event"] == "token_accepted"]
    refused = [e for e in events if e["event"] == "token_refused"]
    t0 = accepted[0]["ts_ms"] if accepted else 0
    timeline = []
    seen_keys = set()
    for e in accepted:
        if e["access_key_id"] not in seen_keys:
            seen_keys.add(e["access_key_id"])
            timeline.append(((e["ts_ms"] - t0) / 1000.0, "kafka", "accepted a token from new "
                             "credentials (%s) for %s" % (e["access_key_id"], short(e["principal"]))))
    for e in refused:
        timeline.append(((e["ts_ms"] - t0) / 1000.0, "kafka", "refused a token: " + e["reason"]))
    refusals = 0
    for line in read(os.path.join(run, "kafka", "broker.log")).splitlines():
        m = KAFKA_REFUSAL.match(line)
        if m:
            refusals += 1
            ts = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
            timeline.append((ts - t0 / 1000.0, "kafka", REFUSED % (short(m.group(3)),
                                                                      short(m.group(4)))))
    timeline.sort(key=lambda x: x[0])
    first = int(metrics.get("successful-authentication-total", 0))
    again = int(metrics.get("successful-reauthentication-total", 0))
    return {
        "source": "Apache Kafka's metrics and log, and the validator's log",
        "timeline": timeline,
        "by_principal": collections.Counter(e["principal"] for e in accepted),
        "keys": {e["access_key_id"] for e in accepted},
        "authentications": first + again,
        "reauthentications": again,
        "connections": int(metrics.get("connection-creation-total", 0)),
        "refusals": refusals,
        "failures": len(refused),
        "expired": int(metrics.get("expired-connections-killed-count", 0)),
        "rebalances": None,
    }


# A refusal in the timeline; the second line lines up under the first's text.
REFUSED = ('REFUSED by the broker: "Cannot change principals during re-authentication"\n' +
           " " * 24 + "from %s to %s")


def main():
    run = sys.argv[1]
    incident = "--incident" in sys.argv[2:]
    kafka = "--kafka" in sys.argv[2:]
    clients = {}
    for name in ("producer", "consumer"):
        clients[name] = {"out": read(os.path.join(run, name + ".out")),
                         "err": read(os.path.join(run, name + ".err"))}
        clients[name]["summary"] = summary_line(clients[name]["out"])
    f = kafka_facts(run) if kafka else emulator_facts(run)

    print()
    print("What happened (from %s):" % f["source"])
    # A timeline of what matters: new connections, credential rotations, refusals.
    for t, who, text in f["timeline"]:
        print("  %5.1f s  %-8s %s" % (t, who, text))

    p, c = clients["producer"]["summary"], clients["consumer"]["summary"]
    produced = set(values(clients["producer"]["out"], "delivered"))
    consumed = values(clients["consumer"]["out"], "consumed")
    lost = produced - set(consumed)
    fetched = sum(x["summary"].get("credential_fetches", 0) for x in clients.values())
    tokens = sum(x["summary"].get("tokens", 0) for x in clients.values())
    recoveries = sum(x["summary"].get("principal_change_recoveries", 0) for x in clients.values())

    print()
    print("Summary:")
    row = "  %-27s %s"
    print(row % ("credentials fetched", "%d (%d access keys used), tokens issued %d" % (
        fetched, len(f["keys"]), tokens)))
    for i, (pr, n) in enumerate(sorted(f["by_principal"].items())):
        print(row % ("principals" if i == 0 else "", "%s (%d tokens accepted)" % (short(pr), n)))
    print(row % ("authentications", "%d: %d on new connections, %d re-authentications" % (
        f["authentications"], f["authentications"] - f["reauthentications"],
        f["reauthentications"])))
    print(row % ("connections", f["connections"]))
    print(row % ("principal-change refusals", "%d (classified as expected recoveries by the "
                                                "clients: %d)" % (f["refusals"], recoveries)))
    print(row % ("other auth failures", f["failures"]))
    if f["expired"]:
        print(row % ("session-expiry disconnects", f["expired"]))
    if f["rebalances"] is not None:
        print(row % ("group rebalances", f["rebalances"]))
    print(row % ("messages", "produced %d, acknowledged %d, consumed %d, lost %d" % (
        p.get("produced", 0), p.get("acknowledged", 0), len(set(consumed)), len(lost))))
    print()
    if incident:
        if f["refusals"]:
            print("The incident: each refresh brought a new session name, hence a new principal; "
                  "the broker refused the\nre-authentication (\"Cannot change principals\"), "
                  "mskiam::rdkafka::is_principal_change classified it,\nlibrdkafka reconnected "
                  "with the new principal, and %s." % (
                      "no message was lost" if not lost else "%d messages were LOST" % len(lost)))
        else:
            print("The principal changed at each refresh; this librdkafka does not "
                  "re-authenticate, so the new principal\narrived with the next connection.")
    else:
        print("Pinned session names: credentials rotated, but each client kept one principal; "
              "every re-authentication\nwas accepted on the same connection%s." % (
                  "" if not lost else "; %d messages were LOST" % len(lost)))
        print("Run `scripts/demo.sh --incident%s` to see the same clients without pinned names."
              % (" --kafka" if kafka else ""))
    return 1 if lost or f["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
