// The official JS signer (aws-msk-iam-sasl-signer-js) as an oracle, in one of two modes:
//   node oracle.js                       signing cases as JSON lines on stdin (see ../README.md),
//                                        one answer line per case on stdout, clock frozen per case
//   node oracle.js --bench SECONDS session|nosession
//                                        tokens per second in a warm loop, real clock, one JSON line
// Both go through generateAuthTokenFromCredentialsProvider with a provider returning the case's
// static credentials, the way an application hands the signer its own credentials.
"use strict";
const readline = require("readline");
const { generateAuthTokenFromCredentialsProvider } = require("aws-msk-iam-sasl-signer-js");
const version = require("aws-msk-iam-sasl-signer-js/package.json").version;

// The signer reads the clock twice: `Date.now()` for the credential-capped lifetime and
// `new Date()` inside @smithy/signature-v4's presign for X-Amz-Date. Both are answered by this
// Date, whose "now" is the frozen instant while one is set.
const RealDate = Date;
let frozenMs = null;
class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0 && frozenMs !== null) super(frozenMs);
    else super(...args);
  }
  static now() {
    return frozenMs !== null ? frozenMs : RealDate.now();
  }
}
globalThis.Date = FrozenDate;

function credentialsOf(c) {
  return {
    accessKeyId: c.access_key,
    secretAccessKey: c.secret,
    ...(c.session_token ? { sessionToken: c.session_token } : {}),
    ...(c.expiration_ms >= 0 ? { expiration: new RealDate(c.expiration_ms) } : {}),
  };
}

async function answerCases() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    const credentials = credentialsOf(c);
    frozenMs = c.now_ms;
    let answer;
    try {
      const r = await generateAuthTokenFromCredentialsProvider({
        region: c.region, awsCredentialsProvider: async () => credentials,
      });
      answer = { id: c.id, token: r.token, expiry_ms: r.expiryTime };
    } catch (e) {
      // The error's class only: a signer's message may quote its inputs.
      answer = { id: c.id, error: e && e.name ? e.name : "Error" };
    } finally {
      frozenMs = null;
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
}

// The inputs of mskiam-bench: same keys, a 444-byte session token, us-east-1, 900 s.
function benchCredentials(withSession) {
  let sessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+";
  while (sessionToken.length < 440) sessionToken += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3=";
  sessionToken = sessionToken.slice(0, 440) + "Zz==";
  return {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ...(withSession ? { sessionToken } : {}),
  };
}

// Runs `chunks` slices of budgetSeconds/chunks; the fastest slice (CPU time) is the one least
// disturbed by other load on the machine, and is what scripts/bench.sh compares.
async function run(options, budgetSeconds, chunks) {
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let calls = 0;
  let best = 0;
  let token = "";
  for (let c = 0; c < chunks; ++c) {
    const start = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    const deadline = start + BigInt(Math.round((budgetSeconds / chunks) * 1e9));
    let n = 0;
    while (process.hrtime.bigint() < deadline) {
      for (let i = 0; i < 50; ++i) token = (await generateAuthTokenFromCredentialsProvider(options)).token;
      n += 50;
    }
    const used = process.cpuUsage(startCpu);
    best = Math.max(best, n / ((used.user + used.system) / 1e6));
    calls += n;
  }
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { calls, wall, cpu: (cpu.user + cpu.system) / 1e6, best, token };
}

async function bench(seconds, withSession) {
  const credentials = benchCredentials(withSession);
  const options = { region: "us-east-1", awsCredentialsProvider: async () => credentials };
  await run(options, Math.min(1, seconds / 3), 1);  // warm-up: let the JIT compile the signer
  const r = await run(options, seconds, 6);
  console.log(JSON.stringify({
    signer: "aws-msk-iam-sasl-signer-js", version, runtime: "node " + process.version,
    session_token: withSession, calls: r.calls, wall_s: r.wall, cpu_s: r.cpu,
    tokens_per_s_wall: r.calls / r.wall, tokens_per_s_cpu: r.calls / r.cpu,
    tokens_per_s_cpu_best: r.best, token_bytes: r.token.length,
  }));
}

const main = process.argv[2] === "--bench"
  ? bench(Number(process.argv[3] || 3), process.argv[4] === "session")
  : answerCases();
main.catch((e) => { console.error(e && e.name ? e.name : "error"); process.exit(1); });
