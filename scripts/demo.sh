#!/usr/bin/env bash
# The README's first command: a producer and a consumer authenticating with IAM, through a credential
# rotation and KIP-368 re-authentications, against the MSK-IAM broker emulator on loopback.
#
#   scripts/demo.sh              pinned session names: one principal per client, nothing refused
#   scripts/demo.sh --incident   no pinned name, a new principal at every refresh (the EKS Pod
#                                Identity / JS SDK incident): refused re-authentication, recovery
#   scripts/demo.sh --kafka      either of the above against a real Apache Kafka broker
#                                (tests/kafka: Java from Debian, Kafka from Maven Central, cached)
#                                instead of the emulator: Kafka's own code decides
#
# Installs what is missing (Debian 12), builds librdkafka 2.8.0 once (the first Debian version with
# re-authentication; cached in ~/.cache/mskiam), builds the examples in Release, then runs them for
# about 30 s on loopback: the examples/ producer and consumer, unchanged, find credentials through
# mskiam's default chain at an EKS Pod Identity agent (tests/fakes, container endpoint), and with
# --role-arn assume MskRole at a fake STS. Credentials live 20 s, broker sessions 4 s; the emulator
# checks every token with botocore. Logs stay in build/demo-run/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

incident=0 kafka=0
for arg in "$@"; do
  case "$arg" in
    --incident) incident=1 ;;
    --kafka) kafka=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: scripts/demo.sh [--incident] [--kafka]" >&2; exit 2 ;;
  esac
done

readonly python=/usr/bin/python3
readonly build=$root/build/demo-rdkafka
readonly run=$root/build/demo-run
readonly credential_lifetime_s=20
readonly session_lifetime_ms=4000
readonly messages=24
readonly role_arn=arn:aws:iam::123456789012:role/MskRole

say() { printf '\n== %s\n' "$*"; }

say "installing what is missing (Debian packages)"
bash scripts/setup.sh

say "librdkafka 2.8.0 (built once from Debian 13's source package, then cached)"
prefix=$(bash scripts/build-librdkafka.sh | tail -1)

say "building the examples (Release)"
mkdir -p "$(dirname "$build")"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMSKIAM_RDKAFKA=ON -DMSKIAM_BUILD_TESTS=OFF -DMSKIAM_BUILD_EXAMPLES=ON -DMSKIAM_EXAMPLE_DEFAULT_CHAIN=ON \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_RPATH="$prefix/lib" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target mskiam-producer mskiam-consumer >/dev/null
bin=$build/examples
version=$("$bin/mskiam-producer" --version)
if [[ $kafka == 1 ]]; then
  say "Apache Kafka from Maven Central (resolved once, then cached) and its MSK-like validator"
  "$python" tests/kafka/broker.py prepare >/dev/null
fi

# --- run ------------------------------------------------------------------------------------------
rm -rf "$run"
mkdir -p "$run"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo '{}' >"$run/registry.json"
# The AWS side: an EKS Pod Identity agent and STS, registering every credential they issue with the
# emulator (the registry file), as IAM makes new credentials known to MSK.
"$python" tests/fakes/aws_fakes.py --port 0 --port-file "$run/fakes.port" --registry "$run/registry.json" \
  --log "$run/fakes.jsonl" --credential-lifetime-s "$credential_lifetime_s" >"$run/fakes.log" 2>&1 &
pids+=($!)
broker_args=(--port-file "$run/port" --registry "$run/registry.json" --events "$run/events.jsonl"
             --region us-east-1 --session-lifetime-ms "$session_lifetime_ms")
if [[ $kafka == 1 ]]; then
  broker_name="Apache Kafka $(cd tests/kafka && "$python" -c "import broker; print(broker.KAFKA_VERSION)")"
  "$python" tests/kafka/broker.py run --work-dir "$run/kafka" --metrics "$run/metrics.json" \
    "${broker_args[@]}" >"$run/broker.log" 2>&1 &
else
  broker_name=Emulator
  "$python" tests/emulator/msk_emulator.py --port 0 "${broker_args[@]}" >"$run/broker.log" 2>&1 &
fi
pids+=($!)
for _ in $(seq 600); do [[ -s $run/port && -s $run/fakes.port ]] && break; sleep 0.1; done
[[ -s $run/port && -s $run/fakes.port ]] ||
  { cat "$run/broker.log" "$run/fakes.log"; echo "demo: the broker or the fakes did not start" >&2; exit 1; }
bootstrap=127.0.0.1:$(cat "$run/port")
aws=http://127.0.0.1:$(cat "$run/fakes.port")

# What a pod sees on EKS with Pod Identity; nothing else may answer the default chain here.
while read -r var; do unset "$var"; done < <(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p')
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$aws/pod-identity AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$run/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$run/no-aws-credentials
common=(--bootstrap "$bootstrap" --region us-east-1 --topic orders --security-protocol SASL_PLAINTEXT --events)
producer_name=() consumer_name=()
if [[ $incident == 0 ]]; then
  producer_name=(--role-arn "$role_arn" --sts-endpoint "$aws" --session-name orders-api)
  consumer_name=(--role-arn "$role_arn" --sts-endpoint "$aws" --session-name billing)
fi

if [[ $incident == 1 ]]; then
  say "the incident: Pod Identity credentials used directly ($version)"
  echo "The Pod Identity agent names a new role session at every refresh (eks-cluster-pod-<uuid>), so the"
  echo "principal changes at every refresh."
else
  say "the fix: AssumeRole over Pod Identity with a fixed session name ($version)"
  echo "mskiam::AssumeRole<DefaultChain> with SessionName::fixed: the principals are MskRole/orders-api and"
  echo "MskRole/billing, whatever the refresh."
fi
echo "$broker_name on $bootstrap; credentials live ${credential_lifetime_s} s, broker sessions $((session_lifetime_ms / 1000)) s;"
echo "$messages messages, one per second (about 30 s). Client output: $run/{producer,consumer}.{out,err}"

"$bin/mskiam-consumer" "${common[@]}" "${consumer_name[@]}" --group billing --count 0 \
  >"$run/consumer.out" 2>"$run/consumer.err" &
consumer_pid=$!
pids+=("$consumer_pid")
"$bin/mskiam-producer" "${common[@]}" "${producer_name[@]}" --count "$messages" --interval-ms 1000 \
  --message-prefix order >"$run/producer.out" 2>"$run/producer.err" &
producer_pid=$!
pids+=("$producer_pid")

# Progress while it runs: one dot per second.
while kill -0 "$producer_pid" 2>/dev/null; do
  printf '.'
  sleep 1
done
echo
producer_status=0
wait "$producer_pid" || producer_status=$?

# Let the consumer catch up with every acknowledged message (at most 20 s), then stop it.
for _ in $(seq 100); do
  delivered=$(grep -c '^delivered ' "$run/producer.out" || true)
  consumed=$(grep '^consumed ' "$run/consumer.out" | awk '{print $3}' | sort -u | wc -l)
  [[ $consumed -ge $delivered ]] && break
  sleep 0.2
done
kill -TERM "$consumer_pid" 2>/dev/null || true
wait "$consumer_pid" || true

echo
echo "Provider events (--events) and classified librdkafka errors, producer:"
grep -E '^mskiam: (credentials_fetched|principal_changed|refresh_failed)|expected recovery' "$run/producer.err" |
  sed -E 's/ access_key_id=[A-Z0-9]+//; s/ expires=[^ ]+//; s/arn:aws:sts::[0-9]+:assumed-role\///g; s/\(sasl_plaintext.*//' |
  cut -c1-150 | sed 's/^/  /'

report_args=("$run")
[[ $incident == 1 ]] && report_args+=(--incident)
[[ $kafka == 1 ]] && report_args+=(--kafka)
report_status=0
"$python" tests/e2e/demo_report.py "${report_args[@]}" || report_status=$?
[[ $producer_status == 0 && $report_status == 0 ]]
