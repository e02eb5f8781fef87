// Tokens per second of the official JS signer (aws-msk-iam-sasl-signer-js), driven the way an
// application drives it: generateAuthTokenFromCredentialsProvider with a provider that returns
// fixed static credentials, one call awaited after another. The inputs are mskiam-bench's.
// Usage: NODE_PATH=<dir>/node_modules node js_signer.js SECONDS session|nosession
// Prints one JSON line: calls, wall and CPU seconds, tokens per second (overall and in the
// fastest of 6 slices), token length.
"use strict";
const { generateAuthTokenFromCredentialsProvider } = require("aws-msk-iam-sasl-signer-js");

const seconds = Number(process.argv[2] || 3);
const withSession = process.argv[3] === "session";
let sessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+";
while (sessionToken.length < 440) sessionToken += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3=";
sessionToken = sessionToken.slice(0, 440) + "Zz==";
const credentials = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  ...(withSession ? { sessionToken } : {}),
};
const options = { region: "us-east-1", awsCredentialsProvider: async () => credentials };

// Runs `chunks` slices of budgetSeconds/chunks; the fastest slice (CPU time) is the one least
// disturbed by other load on the machine, and is what scripts/bench.sh compares.
async function run(budgetSeconds, chunks) {
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

(async () => {
  await run(Math.min(1, seconds / 3), 1);  // warm-up: let the JIT compile the signer
  const r = await run(seconds, 6);
  console.log(JSON.stringify({
    signer: "aws-msk-iam-sasl-signer-js",
    version: require("aws-msk-iam-sasl-signer-js/package.json").version,
    session_token: withSession, calls: r.calls, wall_s: r.wall, cpu_s: r.cpu,
    tokens_per_s_wall: r.calls / r.wall, tokens_per_s_cpu: r.calls / r.cpu,
    tokens_per_s_cpu_best: r.best,
    token_bytes: r.token.length,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
