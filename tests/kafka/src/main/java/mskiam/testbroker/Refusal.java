package mskiam.testbroker;

/** A token the validator refuses. The message is the reason the client and the broker log see: it never
 * holds a secret, a session token, a signature or the token itself. */
final class Refusal extends Exception {
    final String accessKeyId; // null when the token did not get as far as naming one

    Refusal(String reason, String accessKeyId) {
        super(reason);
        this.accessKeyId = accessKeyId;
    }

    Refusal(String reason) {
        this(reason, null);
    }
}
