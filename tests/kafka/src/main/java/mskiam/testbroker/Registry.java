package mskiam.testbroker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Objects;

/**
 * The credential registry the STS fake and the tests write (tmp file + rename):
 * {"<access_key_id>": {"secret_access_key": "...", "principal": "arn:...", "expiration_ms": 1700000000000 | null
 * [, "session_token": "..."]}}. An entry with a session token is temporary credentials, one without a long-term key.
 * Re-read when the file changes (file key, mtime or size) and when a key it does not hold is asked for,
 * because a writer may register credentials just before a client signs with them.
 */
final class Registry {
    record Entry(String secretAccessKey, String principal, Long expirationMs, String sessionToken) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path path;
    private Object stamp;
    private Map<String, Entry> entries = Map.of();

    Registry(Path path) {
        this.path = path;
    }

    synchronized Entry lookup(String accessKeyId) {
        if (!Objects.equals(stamp(), stamp) || !entries.containsKey(accessKeyId)) {
            reload();
        }
        return entries.get(accessKeyId);
    }

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return java.util.List.of(String.valueOf(a.fileKey()), a.lastModifiedTime().toMillis(), a.size());
        } catch (IOException e) {
            return null;
        }
    }

    private void reload() {
        Object now = stamp();
        if (now == null) {
            entries = Map.of();
            stamp = null;
            return;
        }
        JsonNode root;
        try {
            root = JSON.readTree(path.toFile());
        } catch (IOException e) {
            return; // keep what we had: a writer that is not atomic is read again next time
        }
        Map<String, Entry> fresh = new java.util.HashMap<>();
        if (root != null && root.isObject()) {
            root.fields().forEachRemaining(field -> {
                JsonNode v = field.getValue();
                JsonNode secret = v.get("secret_access_key");
                if (secret == null || !secret.isTextual()) {
                    return;
                }
                JsonNode principal = v.get("principal");
                JsonNode expiration = v.get("expiration_ms");
                JsonNode sessionToken = v.get("session_token");
                fresh.put(field.getKey(), new Entry(secret.asText(),
                        principal == null || principal.isNull() ? "" : principal.asText(),
                        expiration == null || expiration.isNull() ? null : expiration.asLong(),
                        sessionToken == null || sessionToken.isNull() ? null : sessionToken.asText()));
            });
        }
        entries = fresh;
        stamp = now;
    }
}
