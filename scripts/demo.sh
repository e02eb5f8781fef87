#!/usr/bin/env bash
# The README's first command: installs what is missing, builds mskiam-token, and signs a token with
# AWS's documented example credentials (they are not real), showing what is inside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DMSKIAM_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target mskiam-token >/dev/null
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
build/demo/examples/mskiam-token --region us-east-1 --decode
