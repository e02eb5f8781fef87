#!/usr/bin/python3
"""After a test run: every secret the tests issued must be absent from everything they printed.

The loopback STS/IMDS/container fakes and the end-to-end credential source record every
credential they issue in registry files (the broker emulator reads them to verify tokens); the
fakes that unit tests and the CLI test start copy theirs, with their logs, into the build tree's
secret-sweep/ directory before their temporary directory goes. This collects each secret access
key and session token from every registry under the build tree, adds the fixed secrets the tests
use (FIXED_SECRETS) and any named on the command line, and searches every log the tests left
(client stdout/stderr, emulator and fake logs, CTest's captured output of every test) for each
secret in the forms a leak takes: raw, percent-encoded, JSON-escaped, and inside base64 or
base64url text (an MSK token is the base64url of a URL that carries the session token
percent-encoded). It prints counts, form names and file names only, never a secret.
Usage: secret_sweep.py BUILD_DIR [SECRET...]"""
import base64
import json
import os
import re
import sys
import urllib.parse

OUTPUT_SUFFIXES = (".out", ".err", ".log", ".jsonl")
MIN_SECRET = 12  # shorter values could match by chance
MIN_ENCODED = 16  # the shortest base64 run searched for

# Secrets the tests set themselves (not issued by a fake), and the file that holds each one;
# tests/suite/secret_sweep_selftest.py checks that each is still there.
FIXED_SECRETS = {
    "pLuGiNsEcReT/doNotPrint+0123456789abcdefgh": "tests/plugin/test_plugin.py",
    "pLuGiNsEsSiOnToKeN/doNotPrint+ZXhhbXBsZQ==": "tests/plugin/test_plugin.py",
    "pRoFiLeAsEcReT/doNotPrint+000000000000000": "tests/plugin/test_plugin.py",
    "pRoFiLeBsEcReT/doNotPrint+111111111111111": "tests/plugin/test_plugin.py",
    "e2e-static-secret-not-real": "tests/e2e/scenarios.py",
    "check-base-secret-value": "tests/cli/test_mskiam_token.py",
    "web-identity-token-value": "tests/cli/test_mskiam_token.py",
    "eyJ.chaos-first-web-identity-token": "tests/chaos/chaos.py",
    "eyJ.chaos-rotated-web-identity-token": "tests/chaos/chaos.py",
}


def registries(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.startswith("registry") and name.endswith(".json"):
                yield os.path.join(dirpath, name)


def secrets_in(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return
    for entry in doc.values() if isinstance(doc, dict) else []:
        if isinstance(entry, dict):
            for key in ("secret_access_key", "session_token"):
                value = entry.get(key)
                if isinstance(value, str) and len(value) >= MIN_SECRET:
                    yield value


def base64_runs(data):
    """The base64 text that encodes `data` wherever it starts in a longer byte string: for each
    of the three alignments, the encoded groups made of `data`'s bytes alone."""
    runs = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        start = 4 if offset else 0  # the first group mixes in the bytes before `data`
        end = len(encoded) if (offset + len(data)) % 3 == 0 else len(encoded) - 4
        if end - start >= MIN_ENCODED:
            runs.append(encoded[start:end])
    return runs


def forms_of(secret):
    """{form name: [texts]}: how the secret reads in an output that leaks it."""
    percent = urllib.parse.quote(secret, safe="-_.~")
    percent_lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), percent)
    json_escaped = json.dumps(secret)[1:-1]
    forms = {
        "raw": [secret],
        "percent-encoded": [percent, percent_lower, urllib.parse.quote_plus(secret)],
        "JSON-escaped": [json_escaped, json_escaped.replace("/", "\\/")],
        "base64": [],
        "base64url": [],
    }
    for text in (secret, percent):
        for run in base64_runs(text.encode("utf-8")):
            forms["base64"].append(run)
            forms["base64url"].append(run.replace("+", "-").replace("/", "_"))
    return {name: sorted(set(texts)) for name, texts in forms.items()}


def outputs(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(OUTPUT_SUFFIXES) or name == "LastTest.log":
                yield os.path.join(dirpath, name)


def leaks_in(text, searched):
    """(secrets found, the names of the forms they were found in)"""
    found, forms = 0, set()
    for secret_forms in searched:
        hit = [name for name, texts in secret_forms.items() if any(t in text for t in texts)]
        if hit:
            found += 1
            forms.update(hit)
    return found, sorted(forms)


def main():
    root = sys.argv[1]
    secrets = {s for s in list(FIXED_SECRETS) + sys.argv[2:] if len(s) >= MIN_SECRET}
    found_registries = list(registries(root))
    for path in found_registries:
        secrets.update(secrets_in(path))
    searched = [forms_of(s) for s in sorted(secrets)]
    leaks, scanned = [], 0
    for path in outputs(root):
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        scanned += 1
        found, forms = leaks_in(text, searched)
        if found:
            leaks.append((path, found, forms))
    for path, found, forms in leaks:
        print("secret sweep: %d secret(s) found in %s (%s)" % (found, path, ", ".join(forms)))
    print("secret sweep: %d secrets from %d registries searched in %d output files: %d passed, %d failed"
          % (len(secrets), len(found_registries), scanned, scanned - len(leaks), len(leaks)))
    if not found_registries:
        print("secret sweep: no registry under %s: the issued secrets did not reach the sweep" % root)
    return 0 if found_registries and scanned and not leaks else 1


if __name__ == "__main__":
    sys.exit(main())
