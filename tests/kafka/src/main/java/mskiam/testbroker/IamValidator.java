package mskiam.testbroker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's OAUTHBEARER validator for MSK IAM tokens
 * (listener.name.<sasl listener>.oauthbearer.sasl.server.callback.handler.class).
 *
 * Its settings are options of the listener's JAAS entry: registry, region, host (optional), max_skew_s,
 * events (optional JSON-lines file), metrics (optional JSON snapshot file) and listener (the listener
 * name whose socket-server metrics the snapshot sums).
 *
 * A refusal is thrown as a SaslAuthenticationException: Kafka sends that message to the client unchanged,
 * where answering through callback.error() would only hand it a JSON status it has to acknowledge first.
 */
public final class IamValidator implements AuthenticateCallbackHandler {
    private static final Logger log = LoggerFactory.getLogger(IamValidator.class);

    private TokenVerifier verifier;
    private EventLog events;

    /** One verifier and one event log per JAAS entry: Kafka configures a handler per network processor,
     * and they share the registry cache and the events file. */
    private record Shared(TokenVerifier verifier, EventLog events) {}

    private static final Map<String, Shared> SHARED = new HashMap<>();

    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> jaasEntries) {
        if (!"OAUTHBEARER".equals(mechanism) || jaasEntries.size() != 1) {
            throw new IllegalArgumentException("mskiam-validator: OAUTHBEARER with one JAAS entry only, got "
                    + mechanism + " with " + jaasEntries.size());
        }
        Map<String, ?> options = jaasEntries.get(0).getOptions();
        Shared shared;
        synchronized (SHARED) {
            shared = SHARED.get(new TreeMap<>(options).toString());
            if (shared == null) {
                shared = create(options);
                SHARED.put(new TreeMap<>(options).toString(), shared);
            }
        }
        verifier = shared.verifier();
        events = shared.events();
    }

    private static Shared create(Map<String, ?> options) {
        String region = required(options, "region");
        long maxSkewS = Long.parseLong(optional(options, "max_skew_s", "300"));
        TokenVerifier verifier = new TokenVerifier(new Registry(Path.of(required(options, "registry"))), region,
                optional(options, "host", null), maxSkewS, System::currentTimeMillis);
        EventLog events;
        try {
            events = new EventLog(optional(options, "events", null));
        } catch (IOException e) {
            throw new IllegalArgumentException("mskiam-validator: cannot open the events file", e);
        }
        String metrics = optional(options, "metrics", null);
        if (metrics != null) {
            MetricsWriter.startOnce(Path.of(metrics), required(options, "listener"));
        }
        log.info("mskiam-validator: configured for region {}, host {}, max skew {} s",
                region, verifier.host(), maxSkewS);
        return new Shared(verifier, events);
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (!(callback instanceof OAuthBearerValidatorCallback)) {
                // Extensions callbacks among them: MSK tokens carry no extensions, Kafka tolerates this.
                throw new UnsupportedCallbackException(callback);
            }
            validate((OAuthBearerValidatorCallback) callback);
        }
    }

    private void validate(OAuthBearerValidatorCallback callback) {
        TokenVerifier.Verified ok;
        try {
            ok = verifier.verify(callback.tokenValue());
        } catch (RuntimeException bug) {
            // Named by its class only: a message could quote the token.
            log.error("mskiam-validator: internal error ({}) while checking a token", bug.getClass().getName());
            throw new SaslAuthenticationException("mskiam-validator internal error: " + bug.getClass().getName());
        } catch (Refusal refusal) {
            log.info("mskiam-validator: refused: {}", refusal.getMessage());
            ObjectNode e = events.event("token_refused");
            e.put("reason", refusal.getMessage());
            e.put("access_key_id", refusal.accessKeyId);
            events.write(e);
            MetricsWriter.count("tokens_refused");
            throw new SaslAuthenticationException(refusal.getMessage());
        }
        log.info("mskiam-validator: accepted access key id {} as {}, expires at {} ms",
                ok.accessKeyId(), ok.principal(), ok.expiresMs());
        ObjectNode e = events.event("token_accepted");
        e.put("access_key_id", ok.accessKeyId());
        e.put("principal", ok.principal());
        e.put("expires_ms", ok.expiresMs());
        e.put("signed_at_ms", ok.signedAtMs());
        e.put("token_expires_ms", ok.tokenExpiresMs());
        e.put("credentials_expire_ms", ok.credentialsExpireMs());
        e.put("session_token", ok.sessionToken());
        events.write(e);
        MetricsWriter.count("tokens_accepted");
        callback.token(new IamToken(callback.tokenValue(), ok));
    }

    @Override
    public void close() {
    }

    private static String required(Map<String, ?> options, String name) {
        String value = optional(options, name, null);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("mskiam-validator: JAAS option " + name + " is required");
        }
        return value;
    }

    private static String optional(Map<String, ?> options, String name, String fallback) {
        Object value = options.get(name);
        return value == null ? fallback : value.toString();
    }

    /** What the broker keeps of an accepted token: the ARN as principal, the real expiry, no scope. */
    private record IamToken(String value, TokenVerifier.Verified verified) implements OAuthBearerToken {
        @Override
        public Set<String> scope() {
            return Set.of();
        }

        @Override
        public long lifetimeMs() {
            return verified.expiresMs();
        }

        @Override
        public String principalName() {
            return verified.principal();
        }

        @Override
        public Long startTimeMs() {
            return verified.signedAtMs();
        }

        @Override
        public String toString() {
            return "IamToken[" + verified.accessKeyId() + " as " + verified.principal() + "]"; // never the value
        }
    }
}
