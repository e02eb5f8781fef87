package mskiam.testbroker;

import org.apache.kafka.common.security.auth.AuthenticationContext;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.KafkaPrincipalBuilder;
import org.apache.kafka.common.security.auth.KafkaPrincipalSerde;
import org.apache.kafka.common.security.auth.SaslAuthenticationContext;
import org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder;

/**
 * Names a SASL client `IAM:<arn>`, as MSK does, so that Kafka's own re-authentication check refuses a
 * change of ARN with "Cannot change principals during re-authentication from IAM.<old>: IAM.<new>".
 * Other listeners (the plaintext inter-broker and controller ones) keep Kafka's default principal.
 */
public final class IamPrincipalBuilder implements KafkaPrincipalBuilder, KafkaPrincipalSerde {
    static final String TYPE = "IAM";
    private final DefaultKafkaPrincipalBuilder fallback = new DefaultKafkaPrincipalBuilder(null, null);

    @Override
    public KafkaPrincipal build(AuthenticationContext context) {
        if (context instanceof SaslAuthenticationContext sasl) {
            // The authorization id is the validator's OAuthBearerToken.principalName(): the ARN.
            return new KafkaPrincipal(TYPE, sasl.server().getAuthorizationID());
        }
        return fallback.build(context);
    }

    @Override
    public byte[] serialize(KafkaPrincipal principal) {
        return fallback.serialize(principal);
    }

    @Override
    public KafkaPrincipal deserialize(byte[] bytes) {
        return fallback.deserialize(bytes);
    }
}
