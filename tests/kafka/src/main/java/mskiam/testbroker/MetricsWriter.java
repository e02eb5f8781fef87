package mskiam.testbroker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every ~250 ms (and at JVM shutdown, unless Kafka already removed its metrics) writes, atomically, a JSON snapshot of Kafka's own socket-server
 * metrics for the SASL listener (kafka.server:type=socket-server-metrics,listener=L,networkProcessor=*,
 * every numeric attribute summed over the processors), plus the validator's token counts. Tests read
 * it to see what Kafka itself counted: authentications, re-authentications, failures, expired sessions.
 */
final class MetricsWriter {
    private static final Logger log = LoggerFactory.getLogger(MetricsWriter.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long PERIOD_MS = 250;
    private static final Map<String, AtomicLong> validatorCounts = new ConcurrentHashMap<>();
    private static MetricsWriter started;

    private final Path path;
    private final ObjectName pattern;
    private final String listener;
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private boolean sawProcessors;

    private MetricsWriter(Path path, String listener) throws javax.management.MalformedObjectNameException {
        this.path = path;
        this.listener = listener;
        this.pattern = new ObjectName("kafka.server:type=socket-server-metrics,listener=" + listener
                + ",networkProcessor=*");
    }

    static synchronized void startOnce(Path path, String listener) {
        if (started != null) {
            return;
        }
        try {
            started = new MetricsWriter(path, listener);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException("mskiam-validator: bad listener name " + listener, e);
        }
        MetricsWriter writer = started;
        Thread thread = new Thread(writer::loop, "mskiam-metrics-writer");
        thread.setDaemon(true);
        thread.start();
        Runtime.getRuntime().addShutdownHook(new Thread(writer::writeQuietly, "mskiam-metrics-final"));
    }

    static void count(String name) {
        validatorCounts.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
    }

    private void loop() {
        while (true) {
            writeQuietly();
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void writeQuietly() {
        try {
            write();
        } catch (Exception e) {
            log.warn("mskiam-validator: metrics snapshot not written: {}", e.toString());
        }
    }

    private void write() throws Exception {
        Map<String, Double> sums = new TreeMap<>();
        Set<ObjectName> names = server.queryNames(pattern, null);
        if (names.isEmpty() && sawProcessors) {
            return; // Kafka is shutting down and removed its metrics: keep the last snapshot
        }
        sawProcessors |= !names.isEmpty();
        for (ObjectName name : names) {
            for (MBeanAttributeInfo attribute : server.getMBeanInfo(name).getAttributes()) {
                Object value = server.getAttribute(name, attribute.getName());
                if (value instanceof Number number && !Double.isNaN(number.doubleValue())
                        && !Double.isInfinite(number.doubleValue())) {
                    sums.merge(attribute.getName(), number.doubleValue(), Double::sum);
                }
            }
        }
        ObjectNode snapshot = JSON.createObjectNode();
        snapshot.put("ts_ms", System.currentTimeMillis());
        snapshot.put("listener", listener);
        snapshot.put("network_processors", names.size());
        ObjectNode socket = snapshot.putObject("socket_server");
        // Counters are whole numbers; rates and averages keep their fraction.
        sums.forEach((k, v) -> {
            if (v == Math.rint(v) && Math.abs(v) < 1e15) {
                socket.put(k, v.longValue());
            } else {
                socket.put(k, v);
            }
        });
        ObjectNode validator = snapshot.putObject("validator");
        validatorCounts.forEach((k, v) -> validator.put(k, v.get()));

        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(snapshot));
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
