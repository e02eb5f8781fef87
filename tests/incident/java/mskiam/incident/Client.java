package mskiam.incident;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The incident's own Java stack: Apache Kafka's client (KIP-368 re-authentication) with the official
 * aws-msk-iam-auth in its OAUTHBEARER mode, whose credentials come from the AWS SDK for Java v2
 * default chain (web identity here). Produces --count messages, one every --interval-ms, acks=all
 * with idempotence, while a consumer thread reads them back; then prints one JSON line (the last
 * line of stdout) for tests/incident/run.py.
 *
 *   java -cp ... mskiam.incident.Client --bootstrap 127.0.0.1:9092 --topic T [--count 45]
 *       [--interval-ms 1000] [--group G] [--idempotence true|false]
 *
 * The region is AWS_REGION, as aws-msk-iam-auth reads it. Nothing here prints a credential or a
 * token: only the texts of exceptions.
 */
public final class Client {
    private static final long DRAIN_TIMEOUT_MS = 20_000;   // after the last send, for the consumer
    private static final long FLUSH_TIMEOUT_MS = 30_000;
    private static final String IAM_HANDLER = "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler";

    private final Map<String, String> args;
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicInteger errors = new AtomicInteger();
    private final AtomicInteger authErrors = new AtomicInteger();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicReference<String> firstAuthError = new AtomicReference<>();
    private final Map<String, Integer> seen = new ConcurrentHashMap<>();
    private final AtomicInteger consumed = new AtomicInteger();
    private final AtomicBoolean stopConsumer = new AtomicBoolean();
    private final AtomicBoolean printed = new AtomicBoolean();
    private final AtomicInteger produced = new AtomicInteger();
    private final List<String> sent = new ArrayList<>();   // values acknowledged; guarded by itself

    private Client(Map<String, String> args) {
        this.args = args;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>(Map.of("count", "45", "interval-ms", "1000",
                "group", "incident-java", "idempotence", "true"));
        for (int i = 0; i + 1 < argv.length; i += 2) {
            args.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        if (!args.containsKey("bootstrap") || !args.containsKey("topic")) {
            throw new IllegalArgumentException("--bootstrap and --topic are required");
        }
        Client client = new Client(args);
        // run.py stops a client that outlives its time with SIGTERM: the figures so far are still printed.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> client.print(client.summary(false, true))));
        String summary;
        try {
            summary = client.run();
        } catch (Exception e) {
            client.noteError("fatal: " + describe(e), e);
            summary = client.summary(true, false);
        }
        client.print(summary);
        System.exit(0);   // the SDK's and the client's non-daemon threads must not hold the run
    }

    private void print(String summary) {
        if (printed.compareAndSet(false, true)) {
            System.out.println(summary);
            System.out.flush();
        }
    }

    private List<String> sentSnapshot() {
        synchronized (sent) {
            return new ArrayList<>(sent);
        }
    }

    private String run() throws Exception {
        int count = Integer.parseInt(args.get("count"));
        long intervalMs = Long.parseLong(args.get("interval-ms"));
        String topic = args.get("topic");
        Thread consumerThread = new Thread(() -> consume(topic), "incident-consumer");
        consumerThread.start();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties())) {
            long start = System.currentTimeMillis();
            for (int i = 0; i < count; ++i) {
                String value = "incident-java-" + i;
                produced.incrementAndGet();
                try {
                    producer.send(new ProducerRecord<>(topic, Integer.toString(i), value), (metadata, e) -> {
                        if (e == null) {
                            acknowledged.incrementAndGet();
                            synchronized (sent) {
                                sent.add(value);
                            }
                        } else {
                            noteError("send " + value + ": " + describe(e), e);
                        }
                    });
                } catch (Exception e) {
                    noteError("send " + value + ": " + describe(e), e);
                }
                long next = start + (i + 1) * intervalMs;
                long now = System.currentTimeMillis();
                if (next > now) {
                    Thread.sleep(next - now);
                }
            }
            producer.flush();
        }
        long drainUntil = System.currentTimeMillis() + DRAIN_TIMEOUT_MS;
        while (System.currentTimeMillis() < drainUntil && !allSeen()) {
            Thread.sleep(200);
        }
        stopConsumer.set(true);
        consumerThread.join(15_000);
        return summary(false, false);
    }

    private boolean allSeen() {
        synchronized (sent) {
            return sent.stream().allMatch(seen::containsKey);
        }
    }

    private void consume(String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties())) {
            consumer.subscribe(List.of(topic));
            while (!stopConsumer.get()) {
                try {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                        seen.merge(record.value(), 1, Integer::sum);
                        consumed.incrementAndGet();
                    }
                } catch (Exception e) {   // an application that keeps polling, as a service would
                    noteError("poll: " + describe(e), e);
                    sleepQuietly(500);
                }
            }
        } catch (Exception e) {
            noteError("consumer: " + describe(e), e);
        }
    }

    private Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", args.get("bootstrap"));
        // MSK serves IAM on SASL_SSL; the loopback broker of the tests speaks SASL_PLAINTEXT.
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "OAUTHBEARER");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
        // aws-msk-iam-auth's README sets its handler as both: the login one (the token kept in the
        // Subject) and the client one, which signs a new token for every (re-)authentication.
        p.put("sasl.login.callback.handler.class", IAM_HANDLER);
        p.put("sasl.client.callback.handler.class", IAM_HANDLER);
        p.put("client.id", "incident-java");
        return p;
    }

    private Properties producerProperties() {
        Properties p = common();
        p.put("acks", "all");
        p.put("enable.idempotence", args.get("idempotence"));
        // A stack that cannot authenticate must still finish within run.py's 90 s: the defaults
        // (delivery 120 s, blocking 60 s) would outlast it; 30 s still spans several rotations.
        p.put("request.timeout.ms", "15000");
        p.put("delivery.timeout.ms", "30000");
        p.put("max.block.ms", "10000");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        return p;
    }

    private Properties consumerProperties() {
        Properties p = common();
        p.put("group.id", args.get("group"));
        p.put("auto.offset.reset", "earliest");
        p.put("fetch.max.wait.ms", "500");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        return p;
    }

    private void noteError(String text, Throwable e) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, text);
        if (isAuthentication(e)) {
            authErrors.incrementAndGet();
            firstAuthError.compareAndSet(null, text);
        }
        System.err.println("client error: " + text);
    }

    private static boolean isAuthentication(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AuthenticationException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            text.append(" <- ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
        }
        return text.toString();
    }

    /** A version from the properties file a jar carries, or "?" (the jars have no manifest version). */
    private static String resourceVersion(String resource, String key) {
        try (java.io.InputStream in = Client.class.getResourceAsStream(resource)) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty(key, "?");
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String summary(boolean fatal, boolean stopped) {
        long lost = sentSnapshot().stream().filter(v -> !seen.containsKey(v)).count();
        int duplicated = seen.values().stream().mapToInt(c -> c - 1).sum();
        Map<String, Object> s = new java.util.LinkedHashMap<>();
        s.put("stack", "kafka-clients+aws-msk-iam-auth(OAUTHBEARER, default chain)");
        s.put("versions", Map.of("kafka-clients", resourceVersion("/kafka/kafka-version.properties", "version"),
                "aws-msk-iam-auth", resourceVersion("/version.properties", "version")));
        s.put("produced", produced.get());
        s.put("acknowledged", acknowledged.get());
        s.put("consumed", consumed.get());
        s.put("distinct_consumed", seen.size());
        s.put("lost", lost);
        s.put("duplicated", duplicated);
        s.put("errors", errors.get());
        s.put("first_error", firstError.get());
        s.put("auth_errors", authErrors.get());
        s.put("first_auth_error", firstAuthError.get());
        s.put("idempotence", Boolean.parseBoolean(args.get("idempotence")));
        s.put("fatal", fatal);
        s.put("stopped", stopped);
        return Json.write(s);
    }
}
