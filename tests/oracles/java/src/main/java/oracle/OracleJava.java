// The official Java library (software.amazon.msk:aws-msk-iam-auth) as an oracle: its OAUTHBEARER
// token generation, IAMOAuthBearerLoginCallbackHandler, driven as Kafka clients drive it
// (configure once, then handle an OAuthBearerTokenCallback per token). Two modes:
//   OracleJava                                signing cases as JSON lines on stdin (../README.md),
//                                             one answer line per case on stdout
//   OracleJava --bench SECONDS session|nosession
//                                             tokens per second in a warm loop
// The handler takes its credentials and region from providers it builds in configure(); this
// driver replaces both private fields with providers answering the current case. Its clock is the
// JVM's (Aws4Signer without a clock override, Instant.now() for the expiry): X-Amz-Date is the
// real time, so the differential test verifies its signature with botocore instead.
package oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.Callback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.regions.Region;
import software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler;
import software.amazon.msk.auth.iam.internals.region.ConfigurableRegionProvider;

public final class OracleJava {
  private static final ObjectMapper JSON = new ObjectMapper();

  // What the handler's two providers answer: the current case's credentials and region.
  private static volatile AwsCredentials credentials;
  private static volatile Region region;

  private static final class CaseRegion implements ConfigurableRegionProvider {
    @Override public Region getRegion() { return region; }
    @Override public Region getRegion(String ignored) { return region; }
  }

  private static IAMOAuthBearerLoginCallbackHandler handler() throws ReflectiveOperationException {
    IAMOAuthBearerLoginCallbackHandler handler = new IAMOAuthBearerLoginCallbackHandler();
    handler.configure(Map.of(), "OAUTHBEARER", List.of());
    set(handler, "credentialsProvider",
        (software.amazon.awssdk.auth.credentials.AwsCredentialsProvider) () -> credentials);
    set(handler, "awsRegionProvider", new CaseRegion());
    return handler;
  }

  private static void set(Object target, String name, Object value) throws ReflectiveOperationException {
    Field field = target.getClass().getDeclaredField(name);
    field.setAccessible(true);
    field.set(target, value);
  }

  // The SDK's session credentials carry an expiry (which the library does not read); its basic
  // credentials have no place for one.
  private static AwsCredentials credentialsOf(String accessKey, String secret, String sessionToken,
                                              long expirationMs) {
    if (sessionToken.isEmpty()) return AwsBasicCredentials.create(accessKey, secret);
    AwsSessionCredentials.Builder b = AwsSessionCredentials.builder().accessKeyId(accessKey)
        .secretAccessKey(secret).sessionToken(sessionToken);
    if (expirationMs >= 0) b.expirationTime(Instant.ofEpochMilli(expirationMs));
    return b.build();
  }

  private static OAuthBearerTokenCallback sign(IAMOAuthBearerLoginCallbackHandler handler) throws Exception {
    OAuthBearerTokenCallback callback = new OAuthBearerTokenCallback();
    handler.handle(new Callback[] {callback});
    return callback;
  }

  private static void answerCases(PrintStream out) throws Exception {
    IAMOAuthBearerLoginCallbackHandler handler = handler();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      JsonNode c = JSON.readTree(line);
      ObjectNode answer = JSON.createObjectNode();
      answer.put("id", c.get("id").asLong());
      credentials = credentialsOf(c.get("access_key").asText(), c.get("secret").asText(),
          c.get("session_token").asText(), c.get("expiration_ms").asLong());
      region = Region.of(c.get("region").asText());
      // The library finds the region again in the host name, among the regions its SDK lists.
      answer.put("sdk_lists_region", Region.regions().contains(region));
      try {
        OAuthBearerTokenCallback callback = sign(handler);
        if (callback.token() == null) {
          answer.put("error", "no token");  // the handler sets an error code, never a secret
        } else {
          answer.put("token", callback.token().value());
          answer.put("expiry_ms", callback.token().lifetimeMs());
        }
      } catch (Exception e) {
        answer.put("error", e.getClass().getSimpleName());  // the class only: messages may quote inputs
      }
      out.println(JSON.writeValueAsString(answer));
    }
    out.flush();
  }

  // The inputs of mskiam-bench: same keys, a 444-byte session token, us-east-1, 900 s.
  private static AwsCredentials benchCredentials(boolean withSession) {
    StringBuilder token = new StringBuilder("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+");
    while (token.length() < 440) token.append("Ab3+Cd/Ef9=Gh1+Ij2/Kl3=");
    token.setLength(440);
    token.append("Zz==");
    return credentialsOf("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        withSession ? token.toString() : "", -1);
  }

  private record Run(long calls, double wall, double cpu, double best, String token) {}

  // The CPU time of the whole process, JIT compiler and garbage collector included, as the other
  // signers' benchmarks count theirs.
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  // Runs `chunks` slices of budget/chunks; the fastest slice (CPU time) is the least disturbed.
  private static Run run(IAMOAuthBearerLoginCallbackHandler handler, double budget, int chunks) throws Exception {
    long wall0 = System.nanoTime();
    long cpu0 = cpuNanos();
    long calls = 0;
    double best = 0;
    String token = "";
    for (int c = 0; c < chunks; ++c) {
      long start = System.nanoTime();
      long startCpu = cpuNanos();
      long n = 0;
      while ((System.nanoTime() - start) / 1e9 < budget / chunks) {
        for (int i = 0; i < 50; ++i) token = sign(handler).token().value();
        n += 50;
      }
      best = Math.max(best, n / ((cpuNanos() - startCpu) / 1e9));
      calls += n;
    }
    return new Run(calls, (System.nanoTime() - wall0) / 1e9,
        (cpuNanos() - cpu0) / 1e9, best, token);
  }

  // The library's version, as it writes it at the head of its User-Agent
  // (aws-msk-iam-auth/<version>/<SDK user agent>); its jar records it nowhere else.
  private static String libraryVersion() {
    String[] parts = software.amazon.msk.auth.iam.internals.UserAgentUtils.getUserAgentValue().split("/");
    return parts.length > 1 ? parts[1] : "unknown";
  }

  private static void bench(double seconds, boolean withSession) throws Exception {
    IAMOAuthBearerLoginCallbackHandler handler = handler();
    credentials = benchCredentials(withSession);
    region = Region.US_EAST_1;
    run(handler, Math.max(1, seconds / 3), 1);  // warm-up: let the JIT compile the library
    Run r = run(handler, seconds, 6);
    ObjectNode o = JSON.createObjectNode();
    o.put("signer", "aws-msk-iam-auth");
    o.put("version", libraryVersion());
    o.put("runtime", "java " + System.getProperty("java.version"));
    o.put("session_token", withSession);
    o.put("calls", r.calls());
    o.put("wall_s", r.wall());
    o.put("cpu_s", r.cpu());
    o.put("tokens_per_s_wall", r.calls() / r.wall());
    o.put("tokens_per_s_cpu", r.calls() / r.cpu());
    o.put("tokens_per_s_cpu_best", r.best());
    o.put("token_bytes", r.token().length());
    System.out.println(JSON.writeValueAsString(o));
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--bench")) {
      bench(Double.parseDouble(args[1]), args.length > 2 && args[2].equals("session"));
    } else {
      answerCases(new PrintStream(System.out, false, StandardCharsets.UTF_8));
    }
  }
}
