// mskiam-c-producer: the producer of producer.cpp on librdkafka's C API (rd_kafka_new and
// friends), for applications written against rdkafka.h. mskiam itself is C++: this file is
// compiled as C++, but every Kafka call is the C API.
//
//   mskiam-c-producer --bootstrap b-1.mycluster...:9098 --region us-east-1 --topic orders
//                     --role-arn arn:aws:iam::123456789012:role/MskRole --session-name orders-api
//
// The lines that matter are marked `mskiam:`: attach() on the rd_kafka_conf_t before rd_kafka_new,
// start() after. The application's own opaque (rd_kafka_conf_set_opaque) stays the application's.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "example_options.hpp"

namespace {

constexpr const char* usage_text = R"(usage: mskiam-c-producer [options]

The producer of mskiam-producer, written against librdkafka's C API.
)";

using Options = example::ProducerOptions;

// What the callbacks update, reached through the application's own opaque.
struct App {
  long acknowledged = 0, failed = 0;
  example::ErrorReport errors;
};

Options parse(int argc, char** argv) {
  Options o = example::parse_producer(argc, argv, "mskiam-c-producer", usage_text);
  if (!o.metrics_file.empty()) example::usage_error("--metrics-file: the C++ examples only");
  return o;
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop = true; }

// error_cb runs in rd_kafka_poll(); errors are classified by example::ErrorReport.
void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<App*>(opaque)->errors.report(
      reason, err == RD_KAFKA_RESP_ERR__AUTHENTICATION, false,
      rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  App& app = *static_cast<App*>(opaque);
  const std::string value(static_cast<const char*>(m->payload), m->len);
  if (m->err) {
    ++app.failed;
    std::printf("failed %s %s\n", value.c_str(), rd_kafka_err2str(m->err));
  } else {
    ++app.acknowledged;
    std::printf("delivered %s/%d@%lld %s\n", rd_kafka_topic_name(m->rkt), m->partition,
                static_cast<long long>(m->offset), value.c_str());
  }
  std::fflush(stdout);
}

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
    throw std::runtime_error(std::string("cannot set ") + name + ": " + errstr);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  App app;
  try {
    // mskiam: a token provider over the credential source, for the cluster's region.
    mskiam::TokenProvider<mskiam::AnySource> provider{
        make_source(o.region, o.role_arn, o.session_name, o.sts_endpoint),
        example::token_options(o), example::provider_options(o)};

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    try {
      set(conf, "bootstrap.servers", o.bootstrap);
      set(conf, "security.protocol", o.security_protocol);
      set(conf, "client.id", "mskiam-c-producer");
      set(conf, "acks", "all");
      set(conf, "enable.idempotence", "true");
      if (!o.ca_location.empty()) set(conf, "ssl.ca.location", o.ca_location);
      if (!o.debug.empty()) set(conf, "debug", o.debug);
      rd_kafka_conf_set_opaque(conf, &app);
      rd_kafka_conf_set_error_cb(conf, &on_error);
      rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
      mskiam::rdkafka::attach(conf, provider);  // mskiam: before rd_kafka_new
    } catch (...) {
      rd_kafka_conf_destroy(conf);
      throw;
    }
    // Destroyed before the provider (declared later): the client must not outlive its provider.
    struct Client {
      rd_kafka_t* rk = nullptr;
      ~Client() {
        if (rk != nullptr) rd_kafka_destroy(rk);
      }
    } client;
    char errstr[512];
    rd_kafka_t* rk = client.rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);  // takes conf on success
    if (rk == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("cannot create the producer: ") + errstr);
    }
    mskiam::rdkafka::start(rk);  // mskiam: refresh on librdkafka's background thread

    long produced = 0;
    for (long i = 1; !stop && (o.count == 0 || i <= o.count); ++i) {
      const std::string value = o.prefix + "-" + std::to_string(i);
      // rd_kafka_produceva: rd_kafka_producev's RD_KAFKA_V_* macros use a GNU extension.
      rd_kafka_vu_t fields[3] = {};
      fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
      fields[0].u.cstr = o.topic.c_str();
      fields[1].vtype = RD_KAFKA_VTYPE_VALUE;
      fields[1].u.mem.ptr = const_cast<char*>(value.data());
      fields[1].u.mem.size = value.size();
      fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      fields[2].u.i = RD_KAFKA_MSG_F_COPY;
      rd_kafka_resp_err_t err;
      while (true) {
        rd_kafka_error_t* error = rd_kafka_produceva(rk, fields, 3);
        err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (error) rd_kafka_error_destroy(error);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(rk, 100);
      }
      if (err) {
        std::fprintf(stderr, "c-producer: cannot produce %s: %s\n", value.c_str(),
                     rd_kafka_err2str(err));
        break;
      }
      ++produced;
      const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.interval_ms);
      do {
        rd_kafka_poll(rk, static_cast<int>(o.interval_ms < 100 ? o.interval_ms : 100));
      } while (!stop && std::chrono::steady_clock::now() < next);
    }
    for (int i = 0; i < 600 && rd_kafka_outq_len(rk) > 0; ++i) rd_kafka_flush(rk, 100);

    const auto counters = provider.counters();
    std::printf(
        "summary produced=%ld acknowledged=%ld failed=%ld unacknowledged=%d %s "
        "credential_fetches=%llu tokens=%llu principal_changes=%llu\n",
        produced, app.acknowledged, app.failed, rd_kafka_outq_len(rk),
        app.errors.summary().c_str(),
        static_cast<unsigned long long>(counters.fetches),
        static_cast<unsigned long long>(counters.tokens),
        static_cast<unsigned long long>(counters.principal_changes));
    std::fflush(stdout);
    return app.acknowledged == produced ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mskiam-c-producer: %s\n", e.what());
    return 1;
  }
}
