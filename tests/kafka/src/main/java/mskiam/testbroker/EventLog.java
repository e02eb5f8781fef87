package mskiam.testbroker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** JSON lines, appended and flushed one by one, so that a test reading the file sees each event at once.
 * Callers never pass a token, a signature, a secret or a session token. */
final class EventLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OutputStream out;

    EventLog(String path) throws IOException {
        out = path == null || path.isEmpty() ? null : new FileOutputStream(path, true);
    }

    ObjectNode event(String name) {
        ObjectNode e = JSON.createObjectNode();
        e.put("ts_ms", System.currentTimeMillis());
        e.put("event", name);
        return e;
    }

    synchronized void write(ObjectNode event) {
        if (out == null) {
            return;
        }
        try {
            out.write((JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
