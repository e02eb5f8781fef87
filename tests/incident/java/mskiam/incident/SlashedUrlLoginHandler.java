package mskiam.incident;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler;

/**
 * aws-msk-iam-auth's login handler, unchanged but for the token's URL: aws-msk-iam-auth 2.4.0 signs
 * `https://kafka.<region>.amazonaws.com?Action=...` (no path), which Amazon MSK accepts, while the
 * loopback brokers of these tests want the `https://kafka.<region>.amazonaws.com/?...` the other
 * official signers send. SigV4's canonical URI of an empty path is "/", so adding the slash leaves
 * the signature valid; credentials, refresh timing and session names stay aws-msk-iam-auth's.
 * Used only by the `java-slash` stack of run.py (as login and client handler), beside the unmodified
 * `java` stack.
 */
public final class SlashedUrlLoginHandler implements AuthenticateCallbackHandler {
    private final IAMOAuthBearerLoginCallbackHandler delegate = new IAMOAuthBearerLoginCallbackHandler();

    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {
        delegate.configure(configs, mechanism, entries);
    }

    @Override
    public void handle(Callback[] callbacks) throws java.io.IOException, UnsupportedCallbackException {
        delegate.handle(callbacks);
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerTokenCallback tokenCallback && tokenCallback.token() != null) {
                tokenCallback.token(withSlash(tokenCallback.token()));
            }
        }
    }

    @Override
    public void close() {
        delegate.close();
    }

    static String addSlash(String tokenValue) {
        String url = new String(Base64.getUrlDecoder().decode(tokenValue), StandardCharsets.UTF_8);
        int query = url.indexOf('?');
        int hostStart = url.indexOf("://") + 3;
        if (query < 0 || url.indexOf('/', hostStart) >= 0 && url.indexOf('/', hostStart) < query) {
            return tokenValue;   // already has a path
        }
        String slashed = url.substring(0, query) + "/" + url.substring(query);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(slashed.getBytes(StandardCharsets.UTF_8));
    }

    private static OAuthBearerToken withSlash(OAuthBearerToken token) {
        String value = addSlash(token.value());
        return new OAuthBearerToken() {
            @Override
            public String value() {
                return value;
            }

            @Override
            public Set<String> scope() {
                return token.scope();
            }

            @Override
            public long lifetimeMs() {
                return token.lifetimeMs();
            }

            @Override
            public String principalName() {
                return token.principalName();
            }

            @Override
            public Long startTimeMs() {
                return token.startTimeMs();
            }
        };
    }
}
