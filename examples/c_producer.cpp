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

#include "mskiam/mskiam.hpp"
#include "mskiam/rdkafka.hpp"
#include "mskiam/sources/any.hpp"

// ---- Where credentials come from: the one place to change ---------------------------------------
// The end-to-end tests compile this file with MSKIAM_EXAMPLE_SOURCE naming a header that provides
// make_source() (a simulated STS); everyone else gets the function below.
#if defined(MSKIAM_EXAMPLE_SOURCE)
#include MSKIAM_EXAMPLE_SOURCE
#else
// MSKIAM_EXAMPLE_DEFAULT_CHAIN (examples/CMakeLists.txt): 1 for the default chain and AssumeRole,
// 0 for environment variables only.
#if MSKIAM_EXAMPLE_DEFAULT_CHAIN
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/default_chain.hpp"
#endif
namespace {
// The default credential chain, optionally assuming `role_arn` with it under a fixed session name.
mskiam::AnySource make_source(const std::string& region, const std::string& role_arn,
                              const std::string& session_name, const std::string& sts_endpoint) {
#if MSKIAM_EXAMPLE_DEFAULT_CHAIN
  mskiam::SessionName name;
  if (!session_name.empty()) name = mskiam::SessionName::fixed(session_name);
  mskiam::StsOptions sts;
  sts.region = region;          // STS in the cluster's region
  sts.endpoint = sts_endpoint;  // empty: that region's endpoint
  mskiam::DefaultChain::Options chain;
  chain.session_name = name;
  chain.sts = sts;
  if (role_arn.empty()) return mskiam::DefaultChain(chain);
  mskiam::AssumeRole<mskiam::DefaultChain>::Options assume;
  assume.role_arn = role_arn;
  assume.session_name = name;
  assume.sts = sts;
  return mskiam::AssumeRole<mskiam::DefaultChain>(mskiam::DefaultChain(chain), assume);
#else
  (void)region;
  if (!role_arn.empty() || !session_name.empty() || !sts_endpoint.empty())
    throw mskiam::Error(mskiam::ErrorKind::not_configured, "example",
                        "--role-arn, --session-name and --sts-endpoint need a build with "
                        "MSKIAM_EXAMPLE_DEFAULT_CHAIN=ON");
  return mskiam::EnvironmentCredentials{};
#endif
}
}  // namespace
#endif
// -------------------------------------------------------------------------------------------------

namespace {

constexpr const char* usage_text = R"(usage: mskiam-c-producer [options]

The producer of mskiam-producer, written against librdkafka's C API. Same options:
  --bootstrap HOST:PORT[,...] ($MSK_BOOTSTRAP)   --region REGION ($AWS_REGION)
  --topic TOPIC (mskiam-example)                 --role-arn ARN
  --session-name NAME  --sts-endpoint URL        --count N (10; 0 = until interrupted)
  --interval-ms MS (1000)                        --message-prefix TEXT (message)
  --security-protocol SASL_SSL|SASL_PLAINTEXT    --ca-location PATH
  --principal-change allow|reject                --events[=stderr|log]
  --debug CONTEXTS                               --version    -h, --help
)";

struct Options {
  std::string bootstrap, region, topic = "mskiam-example";
  std::string role_arn, session_name, sts_endpoint;
  long count = 10, interval_ms = 1000;
  std::string prefix = "message", security_protocol = "SASL_SSL", ca_location, debug;
  mskiam::PrincipalChange principal_change = mskiam::PrincipalChange::allow;
  std::string events;
};

// What the callbacks update, reached through the application's own opaque.
struct App {
  long acknowledged = 0, failed = 0;
  long principal_change_recoveries = 0, token_failures = 0, auth_errors = 0;
};

std::string env_or(const char* name, const char* fallback_name = nullptr) {
  if (const char* v = std::getenv(name); v && *v) return v;
  if (fallback_name)
    if (const char* v = std::getenv(fallback_name); v && *v) return v;
  return {};
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "mskiam-c-producer: %s\n(try --help)\n", message.c_str());
  std::exit(2);
}

long to_long(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 0) usage_error(flag + " takes a whole number >= 0");
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  o.bootstrap = env_or("MSK_BOOTSTRAP");
  o.region = env_or("AWS_REGION", "AWS_DEFAULT_REGION");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("mskiam %s librdkafka %s\n", MSKIAM_VERSION_STRING, rd_kafka_version_str());
      std::exit(0);
    } else if (arg == "--bootstrap") {
      o.bootstrap = value();
    } else if (arg == "--region") {
      o.region = value();
    } else if (arg == "--topic") {
      o.topic = value();
    } else if (arg == "--role-arn") {
      o.role_arn = value();
    } else if (arg == "--session-name") {
      o.session_name = value();
    } else if (arg == "--sts-endpoint") {
      o.sts_endpoint = value();
    } else if (arg == "--count") {
      o.count = to_long(arg, value());
    } else if (arg == "--interval-ms") {
      o.interval_ms = to_long(arg, value());
    } else if (arg == "--message-prefix") {
      o.prefix = value();
    } else if (arg == "--security-protocol") {
      o.security_protocol = value();
    } else if (arg == "--ca-location") {
      o.ca_location = value();
    } else if (arg == "--debug") {
      o.debug = value();
    } else if (arg == "--principal-change") {
      const std::string v = value();
      if (v == "allow")
        o.principal_change = mskiam::PrincipalChange::allow;
      else if (v == "reject")
        o.principal_change = mskiam::PrincipalChange::reject;
      else
        usage_error("--principal-change is allow or reject");
    } else if (arg == "--events" || arg == "--events=stderr") {
      o.events = "stderr";
    } else if (arg == "--events=log") {
      o.events = "log";
    } else {
      usage_error("unknown argument " + arg);
    }
  }
  if (o.bootstrap.empty()) usage_error("--bootstrap is required (or set MSK_BOOTSTRAP)");
  if (o.region.empty()) usage_error("--region is required (or set AWS_REGION)");
  if (o.security_protocol != "SASL_SSL" && o.security_protocol != "SASL_PLAINTEXT")
    usage_error("--security-protocol is SASL_SSL or SASL_PLAINTEXT");
  return o;
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop = true; }

// error_cb runs in rd_kafka_poll(). A principal-change refusal is an expected recovery.
void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  App& app = *static_cast<App*>(opaque);
  if (mskiam::rdkafka::is_principal_change(reason)) {
    ++app.principal_change_recoveries;
    std::fprintf(stderr,
                 "c-producer: expected recovery: the broker refused re-authentication because the "
                 "principal changed; reconnecting with the new credentials (%s)\n",
                 reason);
  } else if (mskiam::rdkafka::is_token_failure(reason)) {
    ++app.token_failures;
    std::fprintf(stderr,
                 "c-producer: no new token (librdkafka keeps the current one and retries in 10 s): "
                 "%s\n",
                 reason);
  } else {
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) ++app.auth_errors;
    std::fprintf(stderr, "c-producer: error %s: %s\n",
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  }
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
    mskiam::ProviderOptions provider_options;
    provider_options.principal_change = o.principal_change;
    if (o.events == "stderr") provider_options.on_event = mskiam::stderr_events();
    if (o.events == "log") provider_options.on_event = mskiam::rdkafka::librdkafka_log_events();
    mskiam::TokenOptions token_options;
    token_options.region = o.region;
    mskiam::TokenProvider<mskiam::AnySource> provider{
        make_source(o.region, o.role_arn, o.session_name, o.sts_endpoint), token_options,
        provider_options};

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    try {
      set(conf, "bootstrap.servers", o.bootstrap);
      set(conf, "security.protocol", o.security_protocol);
      set(conf, "client.id", "mskiam-c-producer");
      set(conf, "acks", "all");
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
        "summary produced=%ld acknowledged=%ld failed=%ld unacknowledged=%d "
        "principal_change_recoveries=%ld token_failures=%ld auth_errors=%ld "
        "credential_fetches=%llu tokens=%llu principal_changes=%llu\n",
        produced, app.acknowledged, app.failed, rd_kafka_outq_len(rk),
        app.principal_change_recoveries, app.token_failures, app.auth_errors,
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
