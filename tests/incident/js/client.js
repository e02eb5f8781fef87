// The incident's own JavaScript stack: kafkajs with the official aws-msk-iam-sasl-signer-js, whose
// credentials come from the AWS SDK for JavaScript v3 default chain (web identity here). Produces
// --count messages, one every --interval-ms, acks=all, while a consumer in the same process reads
// them back; then prints one JSON line (the last line of stdout) for tests/incident/run.py.
//
//   NODE_PATH=<cache>/node_modules node client.js --bootstrap 127.0.0.1:9092 --topic T \
//       [--count 45] [--interval-ms 1000] [--region us-east-1] [--credentials signer-default|sdk-chain]
//       [--expiration as-is|hidden] [--group G]
//
// --credentials signer-default: generateAuthToken({region}), the signer README's first example; the
//   signer builds fromNodeProviderChain({roleSessionName: "MSKSASLDefaultSession"}) at every call.
// --credentials sdk-chain: generateAuthTokenFromCredentialsProvider with one fromNodeProviderChain()
//   of the application's own, no session name given: the SDK names each web identity session
//   aws-sdk-js-session-<ms>, the incident's principals.
// --expiration hidden (sdk-chain only): the application's provider hands the signer its credentials
//   without their expiration. The signer (1.0.3) caps X-Amz-Expires at the credentials' remaining
//   lifetime in fractional seconds ("19.851"), which a broker that wants an integer refuses; hidden,
//   the token says 900 s and the broker still ends the session when the credentials expire.
//
// Nothing here prints a credential or a token: only key-free texts of errors.
"use strict";
const { Kafka, logLevel } = require("kafkajs");
const signer = require("aws-msk-iam-sasl-signer-js");
const { fromNodeProviderChain } = require("@aws-sdk/credential-providers");

const DRAIN_TIMEOUT_MS = 20000;      // after the last send, how long the consumer may catch up
const SEND_TIMEOUT_MS = 30000;       // one send, with kafkajs' own retries inside it
// kafkajs re-authenticates before a request once less than this remains of the broker session;
// its default (10 s) exceeds the 4 s sessions of these runs and would re-authenticate at every
// request, so it is scaled down with the session as the rest of the run is.
const REAUTH_THRESHOLD_MS = 1000;
const TOPIC_PARTITIONS = 3;          // the brokers' default for auto-created topics

function parseArgs(argv) {
  const args = { count: 45, intervalMs: 1000, region: process.env.AWS_REGION || "us-east-1",
                 credentials: "sdk-chain", expiration: "as-is", group: "incident-js" };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    args[key] = argv[i + 1];
  }
  args.count = Number(args.count);
  args.intervalMs = Number(args.intervalMs);
  if (!args.bootstrap || !args.topic) throw new Error("--bootstrap and --topic are required");
  if (!["signer-default", "sdk-chain"].includes(args.credentials)) {
    throw new Error("--credentials must be signer-default or sdk-chain");
  }
  if (!["as-is", "hidden"].includes(args.expiration)) throw new Error("--expiration must be as-is or hidden");
  if (args.expiration === "hidden" && args.credentials !== "sdk-chain") {
    throw new Error("--expiration hidden needs --credentials sdk-chain");
  }
  return args;
}

const args = parseArgs(process.argv);
const stats = {
  stack: "kafkajs+aws-msk-iam-sasl-signer-js(" + args.credentials +
         (args.expiration === "hidden" ? ",expiration hidden" : "") + ")",
  versions: {
    kafkajs: require("kafkajs/package.json").version,
    "aws-msk-iam-sasl-signer-js": require("aws-msk-iam-sasl-signer-js/package.json").version,
    "@aws-sdk/credential-providers": require("@aws-sdk/credential-providers/package.json").version,
  },
  produced: 0, acknowledged: 0, consumed: 0, distinct_consumed: 0, lost: 0, duplicated: 0,
  errors: 0, first_error: null, auth_errors: 0, first_auth_error: null,
  tokens: 0, token_errors: 0, disconnects: 0, connection_errors: 0, crashed: 0,
  principal_change_errors: 0,
};

function noteError(text) {
  stats.errors += 1;
  if (!stats.first_error) stats.first_error = text;
}

// kafkajs logs every authentication failure and broken connection; these texts are how it shows
// a refused re-authentication, so they are counted here (the texts carry no secret).
function logCreator() {
  return ({ level, log }) => {
    if (level > logLevel.WARN) return;
    const text = [log.message, log.error].filter(Boolean).join(": ");
    if (/Cannot change principals/.test(text)) stats.principal_change_errors += 1;
    if (/SASL|authenticat/i.test(text)) {
      stats.auth_errors += 1;
      if (!stats.first_auth_error) stats.first_auth_error = text;
    }
    if (/Connection error|Connection timeout|Closed connection/i.test(text)) stats.connection_errors += 1;
    process.stderr.write("kafkajs " + (level === logLevel.ERROR ? "ERROR " : "WARN ") + text + "\n");
  };
}

const sdkChain = args.credentials === "sdk-chain" ? fromNodeProviderChain() : null;
const appChain = sdkChain && args.expiration === "hidden"
  ? async () => { const { expiration, ...rest } = await sdkChain(); return rest; }
  : sdkChain;

async function token() {
  try {
    const response = appChain
      ? await signer.generateAuthTokenFromCredentialsProvider({ region: args.region, awsCredentialsProvider: appChain })
      : await signer.generateAuthToken({ region: args.region });
    stats.tokens += 1;
    return { value: response.token };
  } catch (e) {
    stats.token_errors += 1;
    noteError("token: " + e.name + ": " + e.message);
    throw e;
  }
}

const kafka = new Kafka({
  clientId: "incident-js",
  brokers: [args.bootstrap],
  ssl: false,
  sasl: { mechanism: "oauthbearer", oauthBearerProvider: token },
  reauthenticationThreshold: REAUTH_THRESHOLD_MS,
  logLevel: logLevel.WARN,
  logCreator,
});

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what + " timed out after " + ms + " ms")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sent = new Set();     // values acknowledged
const seen = new Map();     // value -> times consumed

function summary() {
  stats.distinct_consumed = seen.size;
  stats.lost = [...sent].filter((v) => !seen.has(v)).length;
  stats.duplicated = [...seen.values()].reduce((n, c) => n + c - 1, 0);
  return JSON.stringify(stats) + "\n";
}

// run.py stops a client that outlives its time with SIGTERM: the figures so far are still printed.
process.on("SIGTERM", () => {
  stats.stopped = true;
  process.stdout.write(summary(), () => process.exit(0));
});

async function main() {
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  const consumer = kafka.consumer({ groupId: args.group, maxWaitTimeInMs: 500 });
  for (const client of [producer, consumer]) {
    client.on(client.events.DISCONNECT, () => { stats.disconnects += 1; });
  }
  consumer.on(consumer.events.CRASH, (e) => {
    stats.crashed += 1;
    noteError("consumer crash: " + (e.payload.error && e.payload.error.message));
  });

  // Created up front: kafkajs' consumer gives up on a topic whose auto-creation is still under way
  // ("This server does not host this topic-partition"), which says nothing about authentication.
  // The emulator has no CreateTopics, and creates topics at once when asked for their metadata.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: args.topic, numPartitions: TOPIC_PARTITIONS }], waitForLeaders: true });
  } catch (e) {
    if (e.name !== "KafkaJSServerDoesNotSupportApiKey" && !/does not support|not supported/i.test(e.message)) throw e;
  }
  await admin.disconnect();
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: args.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value.toString();
      seen.set(value, (seen.get(value) || 0) + 1);
      stats.consumed += 1;
    },
  });

  const start = Date.now();
  for (let i = 0; i < args.count; ++i) {
    const value = "incident-js-" + i;
    stats.produced += 1;
    try {
      await withTimeout(producer.send({ topic: args.topic, acks: -1, messages: [{ key: String(i), value }] }),
                        SEND_TIMEOUT_MS, "send");
      stats.acknowledged += 1;
      sent.add(value);
    } catch (e) {
      noteError("send " + i + ": " + e.name + ": " + e.message);
      process.stderr.write("send " + i + " failed: " + e.name + ": " + e.message + "\n");
    }
    const next = start + (i + 1) * args.intervalMs;
    if (next > Date.now()) await sleep(next - Date.now());
  }

  const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < drainUntil && [...sent].some((v) => !seen.has(v))) await sleep(200);

  await Promise.allSettled([withTimeout(consumer.disconnect(), 10000, "consumer disconnect"),
                            withTimeout(producer.disconnect(), 10000, "producer disconnect")]);
}

main()
  .catch((e) => { noteError("fatal: " + e.name + ": " + e.message); stats.fatal = true; })
  .finally(() => {
    process.stdout.write(summary(), () => process.exit(0));
  });
