#!/usr/bin/python3
"""Summary of a scripts/demo.sh run, from the emulator's event log and the clients' output.

    demo_report.py RUN_DIR [--incident]

RUN_DIR holds events.jsonl (the emulator), producer.out/.err and consumer.out/.err (the examples).
"""

import collections
import json
import os
import re
import sys


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


def main():
    run = sys.argv[1]
    incident = "--incident" in sys.argv[2:]
    events = [json.loads(line) for line in read(os.path.join(run, "events.jsonl")).splitlines()
              if line.strip()]
    t0 = next((e["ts_ms"] for e in events if e["event"] == "connection_opened"), 0)
    clients = {}
    for name in ("producer", "consumer"):
        clients[name] = {"out": read(os.path.join(run, name + ".out")),
                         "err": read(os.path.join(run, name + ".err"))}
        clients[name]["summary"] = summary_line(clients[name]["out"])

    auths = [e for e in events if e["event"] == "authenticated"]
    refusals = [e for e in events if e["event"] == "reauth_refused_principal_change"]
    failures = [e for e in events if e["event"] == "auth_failed" and
                "Cannot change principals" not in e.get("reason", "")]
    expired = [e for e in events if e["event"] == "session_expired_disconnect"]
    connections = [e for e in events if e["event"] == "connection_opened"]
    rebalances = [e for e in events if e["event"] == "group_rebalance"]
    by_principal = collections.Counter(a["principal"] for a in auths)
    keys = {a["access_key_id"] for a in auths}

    print()
    print("What happened (from the broker emulator's log):")
    # A timeline of what matters: new connections, credential rotations, refusals.
    seen_keys = {}
    client_of = {a["conn"]: a.get("client_id", "?").replace("mskiam-", "") for a in auths}
    for e in events:
        t = (e["ts_ms"] - t0) / 1000.0
        kind = e["event"]
        if kind == "authenticated":
            who = e.get("client_id", "?").replace("mskiam-", "")
            if not e["reauth"]:
                print("  %5.1f s  %-8s new connection, authenticated as %s" % (
                    t, who, short(e["principal"])))
            elif seen_keys.get(e["conn"]) != e["access_key_id"]:
                print("  %5.1f s  %-8s re-authenticated on the same connection with rotated "
                      "credentials (%s)" % (t, who, e["access_key_id"]))
            seen_keys[e["conn"]] = e["access_key_id"]
        elif kind == "reauth_refused_principal_change":
            print("  %5.1f s  %-8s REFUSED by the broker: \"Cannot change principals during "
                  "re-authentication\"\n%23s from %s to %s" % (
                      t, client_of.get(e["conn"], "?"), "", short(e["old"]), short(e["new"])))
        elif kind == "session_expired_disconnect":
            print("  %5.1f s  broker    closed an expired session (this librdkafka does not "
                  "re-authenticate)" % t)
        elif kind == "auth_failed" and "Cannot change principals" not in e.get("reason", ""):
            print("  %5.1f s  broker    authentication failed: %s" % (t, e["reason"]))

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
        fetched, len(keys), tokens)))
    for i, (pr, n) in enumerate(sorted(by_principal.items())):
        print(row % ("principals" if i == 0 else "", "%s (%d authentications)" % (short(pr), n)))
    print(row % ("authentications", "%d: %d on new connections, %d re-authentications" % (
        len(auths), len([a for a in auths if not a["reauth"]]),
        len([a for a in auths if a["reauth"]]))))
    print(row % ("connections", len(connections)))
    print(row % ("principal-change refusals", "%d (classified as expected recoveries by the "
                                                "clients: %d)" % (len(refusals), recoveries)))
    print(row % ("other auth failures", len(failures)))
    if expired:
        print(row % ("session-expiry disconnects", len(expired)))
    print(row % ("group rebalances", len(rebalances)))
    print(row % ("messages", "produced %d, acknowledged %d, consumed %d, lost %d" % (
        p.get("produced", 0), p.get("acknowledged", 0), len(set(consumed)), len(lost))))
    print()
    if incident:
        if refusals:
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
        print("Run `scripts/demo.sh --incident` to see the same clients without pinned names.")
    return 1 if lost or failures else 0


if __name__ == "__main__":
    sys.exit(main())
