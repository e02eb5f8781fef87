package mskiam.testbroker;

import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4PresignerParams;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.regions.Region;

/**
 * Checks an MSK IAM OAUTHBEARER token as Amazon MSK does, one check after the other, each refusal with
 * its own reason: the encoding, the host, the fixed presign parameters, the credential scope, the clock,
 * the lifetime, the access key, and last the signature, recomputed by the AWS SDK for Java v2's SigV4
 * presigner with the registry's secret.
 */
final class TokenVerifier {
    static final String SERVICE = "kafka-cluster";
    static final int MAX_EXPIRES_S = 900;

    /** expiresMs: the token's expiry capped by the credentials' (null: they do not expire). */
    record Verified(String accessKeyId, String principal, long signedAtMs, long tokenExpiresMs,
                    Long credentialsExpireMs, boolean sessionToken) {
        long expiresMs() {
            return credentialsExpireMs == null ? tokenExpiresMs : Math.min(tokenExpiresMs, credentialsExpireMs);
        }
    }

    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;
    // What the presigner adds itself (or what is never signed): everything else in the URL is signed.
    private static final Set<String> PRESIGN_PARAMETERS = Set.of("X-Amz-Algorithm", "X-Amz-Credential",
            "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
            "User-Agent");

    private final Registry registry;
    private final String region;
    private final String host;
    private final long maxSkewS;
    private final LongSupplier clockMs;

    TokenVerifier(Registry registry, String region, String host, long maxSkewS, LongSupplier clockMs) {
        this.registry = registry;
        this.region = region;
        this.host = host == null || host.isEmpty() ? defaultHost(region) : host;
        this.maxSkewS = maxSkewS;
        this.clockMs = clockMs;
    }

    static String defaultHost(String region) {
        return "kafka." + region + ".amazonaws.com"; // China too, as every official signer signs it
    }

    String host() {
        return host;
    }

    Verified verify(String token) throws Refusal {
        String url = decode(token);

        // An empty path is the path "/" to SigV4 (the canonical URI of both is "/"): the Java signer
        // writes https://host?..., the others https://host/?...
        String prefix = "https://" + host + "/?";
        String noPath = "https://" + host + "?";
        if (!url.startsWith(prefix) && !url.startsWith(noPath)) {
            throw new Refusal("wrong host: token URL starts with " + quote(urlStart(url)) + ", broker expects "
                    + quote(prefix));
        }
        Map<String, String> params = parseQuery(url.substring(url.indexOf('?') + 1));
        for (String name : new String[] {"Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"}) {
            if (!params.containsKey(name)) {
                throw new Refusal("token has no " + name + " parameter");
            }
        }
        expect(params, "Action", "kafka-cluster:Connect", "wrong action");
        expect(params, "X-Amz-Algorithm", "AWS4-HMAC-SHA256", "wrong algorithm");
        expect(params, "X-Amz-SignedHeaders", "host", "wrong signed headers");

        String amzDate = params.get("X-Amz-Date");
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new Refusal("bad X-Amz-Date: " + quote(amzDate) + " is not YYYYMMDDTHHMMSSZ");
        }

        String[] scope = params.get("X-Amz-Credential").split("/", -1);
        if (scope.length != 5 || scope[0].isEmpty()) {
            throw new Refusal("bad credential scope: X-Amz-Credential is not <key>/<date>/<region>/"
                    + SERVICE + "/aws4_request");
        }
        String accessKeyId = scope[0];
        if (!scope[1].equals(amzDate.substring(0, 8))) {
            throw new Refusal("bad credential scope: date " + scope[1] + " is not that of X-Amz-Date " + amzDate,
                    accessKeyId);
        }
        if (!scope[2].equals(region)) {
            throw new Refusal("wrong region: token signed for " + scope[2] + ", broker expects " + region,
                    accessKeyId);
        }
        if (!scope[3].equals(SERVICE) || !scope[4].equals("aws4_request")) {
            throw new Refusal("bad credential scope: service " + quote(scope[3] + "/" + scope[4])
                    + ", expected " + quote(SERVICE + "/aws4_request"), accessKeyId);
        }

        long nowMs = clockMs.getAsLong();
        long skewS = Math.abs(signedAt.toEpochMilli() - nowMs) / 1000;
        if (skewS > maxSkewS) {
            throw new Refusal("clock skew: X-Amz-Date " + amzDate + " is " + skewS + " s from the broker clock ("
                    + ISO.format(Instant.ofEpochMilli(nowMs)) + "), more than " + maxSkewS + " s", accessKeyId);
        }

        String expiresText = params.get("X-Amz-Expires");
        int expiresS = expiresText.matches("[0-9]{1,4}") ? Integer.parseInt(expiresText) : -1;
        if (expiresS < 1 || expiresS > MAX_EXPIRES_S) {
            throw new Refusal("bad X-Amz-Expires: " + quote(expiresText) + " is not an integer from 1 to "
                    + MAX_EXPIRES_S, accessKeyId);
        }
        Instant tokenExpiry = signedAt.plusSeconds(expiresS);
        if (tokenExpiry.toEpochMilli() <= nowMs) {
            throw new Refusal("token expired: at " + ISO.format(tokenExpiry) + " (X-Amz-Date " + amzDate
                    + " + X-Amz-Expires " + expiresS + " s)", accessKeyId);
        }

        Registry.Entry entry = registry.lookup(accessKeyId);
        if (entry == null) {
            throw new Refusal("unknown access key id " + accessKeyId, accessKeyId);
        }
        String expected = presignedSignature(params, entry, accessKeyId, signedAt, expiresS);
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                params.get("X-Amz-Signature").getBytes(StandardCharsets.UTF_8))) {
            throw new Refusal("signature mismatch for access key id " + accessKeyId, accessKeyId);
        }
        checkSessionToken(params.get("X-Amz-Security-Token"), entry, accessKeyId);
        if (entry.expirationMs() != null && entry.expirationMs() <= nowMs) {
            throw new Refusal("credentials expired: access key id " + accessKeyId + " expired at "
                    + ISO.format(Instant.ofEpochMilli(entry.expirationMs())), accessKeyId);
        }

        return new Verified(accessKeyId, entry.principal(), signedAt.toEpochMilli(), tokenExpiry.toEpochMilli(),
                entry.expirationMs(), params.containsKey("X-Amz-Security-Token"));
    }

    /**
     * As MSK (through STS) does: temporary credentials (an entry with a session token) are accepted only
     * with the session token they were issued with, a long-term key only without one. Never names a token.
     */
    private static void checkSessionToken(String sent, Registry.Entry entry, String accessKeyId) throws Refusal {
        String issued = entry.sessionToken();
        if (issued == null) {
            if (sent != null) {
                throw new Refusal("access key id " + accessKeyId + " is a long-term key, but the token carries a"
                        + " session token", accessKeyId);
            }
            return;
        }
        if (sent == null) {
            throw new Refusal("access key id " + accessKeyId + " is temporary, but the token carries no session"
                    + " token", accessKeyId);
        }
        if (!MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), issued.getBytes(StandardCharsets.UTF_8))) {
            throw new Refusal("the session token does not match the one issued with access key id " + accessKeyId,
                    accessKeyId);
        }
    }

    /** Presigns the same GET with the SDK, at the token's own second and lifetime, and returns its signature. */
    private String presignedSignature(Map<String, String> params, Registry.Entry entry, String accessKeyId,
                                      Instant signedAt, int expiresS) {
        SdkHttpFullRequest.Builder request = SdkHttpFullRequest.builder()
                .method(SdkHttpMethod.GET).protocol("https").host(host).encodedPath("/");
        params.forEach((name, value) -> {
            if (!PRESIGN_PARAMETERS.contains(name)) {
                request.putRawQueryParameter(name, value);
            }
        });
        String sessionToken = params.get("X-Amz-Security-Token");
        AwsCredentials credentials = sessionToken == null
                ? AwsBasicCredentials.create(accessKeyId, entry.secretAccessKey())
                : AwsSessionCredentials.create(accessKeyId, entry.secretAccessKey(), sessionToken);
        Aws4PresignerParams presign = Aws4PresignerParams.builder()
                .awsCredentials(credentials)
                .signingName(SERVICE)
                .signingRegion(Region.of(region))
                .signingClockOverride(Clock.fixed(signedAt, ZoneOffset.UTC))
                .expirationTime(signedAt.plusSeconds(expiresS))
                .build();
        SdkHttpFullRequest signed = Aws4Signer.create().presign(request.build(), presign);
        return signed.firstMatchingRawQueryParameter("X-Amz-Signature").orElse("");
    }

    /** Unpadded base64url (RFC 4648 §5) of a UTF-8 URL: padding and foreign characters are refused. */
    private static String decode(String token) throws Refusal {
        if (token == null || token.isEmpty()) {
            throw new Refusal("token is empty");
        }
        int pad = token.indexOf('=');
        if (pad >= 0) {
            throw new Refusal("token is padded base64url: '=' at offset " + pad
                    + " (MSK tokens are base64url without padding)");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (!ok) {
                throw new Refusal("token is not base64url: character " + (c < 0x20 || c > 0x7e
                        ? String.format("U+%04X", (int) c) : "'" + c + "'") + " at offset " + i);
            }
        }
        try {
            byte[] raw = Base64.getUrlDecoder().decode(token);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (IllegalArgumentException e) {
            throw new Refusal("token is not base64url: its length " + token.length() + " cannot be decoded");
        } catch (CharacterCodingException e) {
            throw new Refusal("token is not base64url of a UTF-8 URL");
        }
    }

    private static Map<String, String> parseQuery(String query) throws Refusal {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = percentDecode(eq < 0 ? pair : pair.substring(0, eq));
            String value = percentDecode(eq < 0 ? "" : pair.substring(eq + 1));
            if (params.putIfAbsent(name, value) != null) {
                throw new Refusal("token repeats the " + name + " parameter");
            }
        }
        return params;
    }

    /** Percent-decoding alone: SigV4 never writes a space as '+', so '+' stays '+'. */
    private static String percentDecode(String s) throws Refusal {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%') {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
            int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
            if (lo < 0) {
                throw new Refusal("token URL has a bad percent escape");
            }
            out.write(hi * 16 + lo);
            i += 2;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new Refusal("token URL has a percent escape that is not UTF-8");
        }
    }

    private static void expect(Map<String, String> params, String name, String want, String what)
            throws Refusal {
        if (!params.get(name).equals(want)) {
            throw new Refusal(what + ": " + name + " is " + quote(params.get(name)) + ", expected " + quote(want));
        }
    }

    /** The scheme and host part of a URL, for a refusal: never its query, which holds the signature. */
    private static String urlStart(String url) {
        int q = url.indexOf('?');
        String start = q < 0 ? url : url.substring(0, q + 1);
        return start.length() > 100 ? start.substring(0, 100) + "..." : start;
    }

    private static String quote(String s) {
        return "'" + s + "'";
    }
}
