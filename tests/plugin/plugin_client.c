/* A librdkafka client that knows nothing of mskiam: everything comes from configuration
 * (plugin.library.paths, sasl.oauthbearer.config, ...), as it would in any C application.
 * Used by tests/plugin/test_plugin.py against the MSK-IAM emulator, under LeakSanitizer, and
 * against librdkafka 2.8.0.
 *
 *   plugin_client metadata              [-X k=v]...  list metadata without ever polling
 *   plugin_client produce  TOPIC N [MS] [-X k=v]...  produce N messages (one every MS ms),
 *                                                   wait for delivery
 *   plugin_client consume  TOPIC N      [-X k=v]...  consume N messages (group.id from -X)
 *   plugin_client new-fails             [-X k=v]...  rd_kafka_new must fail: print errstr
 *   plugin_client churn    N            [-X k=v]...  create and destroy N clients
 *   plugin_client dup                   [-X k=v]...  metadata through a rd_kafka_conf_dup copy
 *                                                   (what the C++ API does), original destroyed
 *   plugin_client pair                  -A k=v... -B k=v...  two clients, different settings,
 *                                                   created together: print which connect
 *   plugin_client many N TOPIC COUNT MS [-X k=v]...  N producers with the same settings and
 *                                                   client.id many-00, many-01...: each produces
 *                                                   COUNT messages, one round every MS ms
 *
 * With MSKIAM_PLUGIN_CLIENT_RESOLVE_TO=ADDRESS, every broker host name resolves to ADDRESS
 * (librdkafka's resolve_cb): MSK host names, which carry the region, reach the local emulator.
 *
 * Output: one `result ...` line on stdout; errors on stderr. Exit status 0 on success. */
#include <librdkafka/rdkafka.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SETTINGS 64

struct settings {
  const char *kv[MAX_SETTINGS];
  int n;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)rk;
  (void)opaque;
  fprintf(stderr, "error_cb: %s: %s\n", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static const char *resolve_to = NULL; /* MSKIAM_PLUGIN_CLIENT_RESOLVE_TO */

static int resolve_cb(const char *node, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res, void *opaque) {
  (void)opaque;
  if (!node && !service && !hints) { /* librdkafka hands back what we resolved */
    freeaddrinfo(*res);
    return 0;
  }
  return getaddrinfo(resolve_to, service, hints, res);
}

/* Applies k=v settings in order, like kcat -X. Returns NULL (and prints why) on failure. */
static rd_kafka_conf_t *make_conf(const struct settings *s) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int i;
  rd_kafka_conf_set_error_cb(conf, error_cb);
  if (resolve_to) rd_kafka_conf_set_resolve_cb(conf, resolve_cb);
  for (i = 0; i < s->n; i++) {
    char name[256];
    const char *eq = strchr(s->kv[i], '=');
    size_t len;
    if (!eq) {
      fprintf(stderr, "not key=value: %s\n", s->kv[i]);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
    len = (size_t)(eq - s->kv[i]);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, s->kv[i], len);
    name[len] = '\0';
    if (rd_kafka_conf_set(conf, name, eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      printf("result conf_set_failed %s: %s\n", name, errstr);
      rd_kafka_conf_destroy(conf);
      return NULL;
    }
  }
  return conf;
}

static rd_kafka_t *make_client(const struct settings *s, rd_kafka_type_t type) {
  char errstr[512];
  rd_kafka_t *rk;
  rd_kafka_conf_t *conf = make_conf(s);
  if (!conf) return NULL;
  rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!rk) {
    printf("result new_failed: %s\n", errstr);
    rd_kafka_conf_destroy(conf); /* still ours after a failure */
  }
  return rk;
}

/* Metadata without rd_kafka_poll: only background SASL callbacks can authenticate it. */
static int metadata(rd_kafka_t *rk, int timeout_ms) {
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
  if (err) {
    fprintf(stderr, "metadata: %s\n", rd_kafka_err2str(err));
    return -1;
  }
  rd_kafka_metadata_destroy(md);
  return 0;
}

static int delivered = 0, failed = 0;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    failed++;
    fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
  } else {
    delivered++;
  }
}

static void sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static int produce(const struct settings *s, const char *topic, int n, int interval_ms) {
  char errstr[512];
  rd_kafka_conf_t *conf = make_conf(s);
  rd_kafka_t *rk;
  int i;
  double start = now_s();
  if (!conf) return 1;
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    printf("result new_failed: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  for (i = 0; i < n; i++) {
    char value[64];
    int len = snprintf(value, sizeof value, "message-%d", i);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, (size_t)len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
    rd_kafka_poll(rk, 0);
    if (interval_ms > 0) sleep_ms(interval_ms);
  }
  rd_kafka_flush(rk, 60000);
  rd_kafka_destroy(rk);
  printf("result produced %d delivered %d failed %d in %.2f s\n", n, delivered, failed,
         now_s() - start);
  return delivered == n ? 0 : 1;
}

#define MAX_CLIENTS 64

static int many(const struct settings *s, int n, const char *topic, int count, int interval_ms) {
  rd_kafka_t *rks[MAX_CLIENTS];
  double start = now_s();
  int i, round;
  if (n < 1 || n > MAX_CLIENTS) return 2;
  for (i = 0; i < n; i++) {
    char errstr[512], id[32];
    rd_kafka_conf_t *conf = make_conf(s);
    if (!conf) return 1;
    snprintf(id, sizeof id, "many-%02d", i);
    rd_kafka_conf_set(conf, "client.id", id, errstr, sizeof errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rks[i] = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rks[i]) {
      printf("result new_failed: %s\n", errstr);
      rd_kafka_conf_destroy(conf);
      return 1;
    }
  }
  for (round = 0; round < count; round++) {
    for (i = 0; i < n; i++) {
      char value[64];
      int len = snprintf(value, sizeof value, "many-%02d-%d", i, round);
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rks[i], RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, (size_t)len),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err) fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
      rd_kafka_poll(rks[i], 0);
    }
    if (interval_ms > 0) sleep_ms(interval_ms);
  }
  for (i = 0; i < n; i++) {
    rd_kafka_flush(rks[i], 60000);
    rd_kafka_destroy(rks[i]);
  }
  printf("result many %d clients produced %d delivered %d failed %d in %.2f s\n", n, n * count,
         delivered, failed, now_s() - start);
  return delivered == n * count ? 0 : 1;
}

static int consume(const struct settings *s, const char *topic, int n) {
  rd_kafka_t *rk = make_client(s, RD_KAFKA_CONSUMER);
  rd_kafka_topic_partition_list_t *topics;
  int got = 0;
  double start = now_s();
  if (!rk) return 1;
  rd_kafka_poll_set_consumer(rk);
  topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  while (got < n && now_s() - start < 40) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
    if (!m) continue;
    if (!m->err) got++;
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  printf("result consumed %d of %d in %.2f s\n", got, n, now_s() - start);
  return got >= n ? 0 : 1;
}

int main(int argc, char **argv) {
  struct settings x = {{0}, 0}, a = {{0}, 0}, b = {{0}, 0};
  const char *mode;
  const char *pos[5] = {0};
  int npos = 0, i;
  if (argc < 2) {
    fprintf(stderr, "usage: plugin_client MODE [ARGS] [-X key=value]...\n");
    return 2;
  }
  mode = argv[1];
  resolve_to = getenv("MSKIAM_PLUGIN_CLIENT_RESOLVE_TO");
  for (i = 2; i < argc; i++) {
    struct settings *target = NULL;
    if (!strcmp(argv[i], "-X")) target = &x;
    if (!strcmp(argv[i], "-A")) target = &a;
    if (!strcmp(argv[i], "-B")) target = &b;
    if (target && i + 1 < argc && target->n < MAX_SETTINGS) {
      target->kv[target->n++] = argv[++i];
    } else if (!target && npos < 5) {
      pos[npos++] = argv[i];
    } else {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  fprintf(stderr, "librdkafka %s\n", rd_kafka_version_str());

  if (!strcmp(mode, "metadata")) {
    double start = now_s();
    rd_kafka_t *rk = make_client(&x, RD_KAFKA_PRODUCER);
    int rc;
    if (!rk) return 1;
    rc = metadata(rk, 20000);
    rd_kafka_destroy(rk);
    printf("result metadata %s in %.2f s\n", rc == 0 ? "ok" : "failed", now_s() - start);
    return rc == 0 ? 0 : 1;
  }
  if (!strcmp(mode, "produce") && (npos == 2 || npos == 3))
    return produce(&x, pos[0], atoi(pos[1]), npos == 3 ? atoi(pos[2]) : 0);
  if (!strcmp(mode, "consume") && npos == 2) return consume(&x, pos[0], atoi(pos[1]));
  if (!strcmp(mode, "many") && npos == 4)
    return many(&x, atoi(pos[0]), pos[1], atoi(pos[2]), atoi(pos[3]));
  if (!strcmp(mode, "new-fails")) {
    rd_kafka_t *rk = make_client(&x, RD_KAFKA_PRODUCER);
    if (rk) {
      printf("result new_succeeded\n");
      rd_kafka_destroy(rk);
      return 1;
    }
    return 0;
  }
  if (!strcmp(mode, "churn") && npos == 1) {
    int n = atoi(pos[0]), ok = 0;
    double start = now_s();
    for (i = 0; i < n; i++) {
      rd_kafka_t *rk = make_client(&x, i % 2 ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER);
      if (!rk) return 1;
      /* every other client authenticates before it is destroyed */
      if (i % 2 == 0 && metadata(rk, 20000) == 0) ok++;
      rd_kafka_destroy(rk);
    }
    printf("result churn %d clients, %d authenticated in %.2f s\n", n, ok, now_s() - start);
    return ok == (n + 1) / 2 ? 0 : 1;
  }
  if (!strcmp(mode, "dup")) {
    char errstr[512];
    rd_kafka_conf_t *conf = make_conf(&x), *copy;
    rd_kafka_t *rk;
    int rc;
    if (!conf) return 1;
    copy = rd_kafka_conf_dup(conf);
    rd_kafka_conf_destroy(conf);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, copy, errstr, sizeof errstr);
    if (!rk) {
      printf("result new_failed: %s\n", errstr);
      rd_kafka_conf_destroy(copy);
      return 1;
    }
    rc = metadata(rk, 20000);
    rd_kafka_destroy(rk);
    printf("result dup metadata %s\n", rc == 0 ? "ok" : "failed");
    return rc == 0 ? 0 : 1;
  }
  if (!strcmp(mode, "pair")) {
    rd_kafka_t *ra = make_client(&a, RD_KAFKA_PRODUCER);
    rd_kafka_t *rb = make_client(&b, RD_KAFKA_PRODUCER);
    int oka, okb;
    if (!ra || !rb) return 1;
    oka = metadata(ra, 20000) == 0;
    okb = metadata(rb, 5000) == 0;
    rd_kafka_destroy(ra);
    rd_kafka_destroy(rb);
    printf("result pair A=%s B=%s\n", oka ? "ok" : "failed", okb ? "ok" : "failed");
    return 0;
  }
  fprintf(stderr, "unknown mode or arguments: %s\n", mode);
  return 2;
}
