#!/usr/bin/python3
"""After a test run: every secret the tests issued must be absent from everything they printed.

The loopback STS/IMDS/container fakes and the end-to-end credential source record every
credential they issue in registry files (the broker emulator reads them to verify tokens). This
collects each secret access key and session token from every registry under the build tree, adds
the fixed test secrets named on the command line, and searches every log the tests left (client
stdout/stderr, emulator and fake logs, CTest's captured output of every test). It prints counts
and file names only, never a secret. Usage: secret_sweep.py BUILD_DIR [SECRET...]"""
import json
import os
import sys

OUTPUT_SUFFIXES = (".out", ".err", ".log", ".jsonl")
MIN_SECRET = 12  # shorter values could match by chance


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


def outputs(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(OUTPUT_SUFFIXES) or name == "LastTest.log":
                yield os.path.join(dirpath, name)


def main():
    root = sys.argv[1]
    secrets = {s for s in sys.argv[2:] if len(s) >= MIN_SECRET}
    for path in registries(root):
        secrets.update(secrets_in(path))
    leaks, scanned = [], 0
    for path in outputs(root):
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        scanned += 1
        found = sum(1 for s in secrets if s in text)
        if found:
            leaks.append((path, found))
    for path, found in leaks:
        print("secret sweep: %d secret(s) found in %s" % (found, path))
    print("secret sweep: %d secrets searched in %d output files: %d passed, %d failed"
          % (len(secrets), scanned, scanned - len(leaks), len(leaks)))
    return 0 if secrets and scanned and not leaks else 1


if __name__ == "__main__":
    sys.exit(main())
