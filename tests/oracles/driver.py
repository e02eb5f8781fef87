#!/usr/bin/python3
"""Runs one official signer's driver as tests/oracles/install.sh installed it, with its arguments:
  driver.py js|python|go|java [--bench SECONDS session|nosession]
Exits 3 when that signer is not installed."""
import json
import os
import sys

CACHE = os.environ.get("MSKIAM_ORACLES_CACHE", os.path.expanduser("~/.cache/mskiam/oracles"))

if __name__ == "__main__":
    drivers = json.load(open(os.path.join(CACHE, "drivers.json")))
    driver = drivers.get(sys.argv[1])
    if driver is None:
        sys.exit(3)
    os.environ.update(driver["env"])
    os.execvp(driver["argv"][0], driver["argv"] + sys.argv[2:])
