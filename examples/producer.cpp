// mskiam-producer: a librdkafka C++ producer that authenticates to Amazon MSK with IAM.
//
//   mskiam-producer --bootstrap b-1.mycluster...:9098 --region us-east-1 --topic orders
//                   --role-arn arn:aws:iam::123456789012:role/MskRole --session-name orders-api
//
// The three lines that matter are marked `mskiam:` below: a TokenProvider over a credential source,
// attach() before the producer is created, start() after. Everything else is an ordinary producer.
// It prints one line per acknowledged message and a summary; exit status 0 when every message
// was acknowledged.
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
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
// The default credential chain (environment, profile, web identity, container, instance
// metadata), optionally assuming `role_arn` with it. A fixed session name makes the principal
// `assumed-role/<role>/<session_name>` the same at every refresh.
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

constexpr const char* usage_text = R"(usage: mskiam-producer [options]

Produces --count messages to --topic on Amazon MSK (or the MSK-IAM emulator), authenticating with
IAM through mskiam. Credentials come from the default AWS chain, or from the role --role-arn assumed
with it.

options:
  --bootstrap HOST:PORT[,...]  brokers (default: $MSK_BOOTSTRAP)
  --region REGION              region of the cluster (default: $AWS_REGION, $AWS_DEFAULT_REGION)
  --topic TOPIC                (default mskiam-example)
  --role-arn ARN               assume this role over the default chain
  --session-name NAME          fixed STS role session name: one principal for the process' life
  --sts-endpoint URL           STS endpoint (default: the region's, sts.REGION.amazonaws.com)
  --count N                    messages to produce, 0 = until interrupted (default 10)
  --interval-ms MS             pause between messages (default 1000)
  --message-prefix TEXT        message values are TEXT-1, TEXT-2, ... (default message)
  --security-protocol P        SASL_SSL (default; MSK) or SASL_PLAINTEXT (emulator)
  --ca-location PATH           CA bundle for SASL_SSL (ssl.ca.location)
  --principal-change allow|reject
                               allow (default): take credentials for a new principal and let the
                               client reconnect; reject: keep the old ones while they are valid
  --events[=stderr|log]        print credential events (stderr: `mskiam: ...` lines; log: in
                               librdkafka's log format)
  --debug CONTEXTS             librdkafka debug contexts, e.g. security,broker
  --version                    print the mskiam and librdkafka versions
  -h, --help                   this text
)";

struct Options {
  std::string bootstrap, region, topic = "mskiam-example";
  std::string role_arn, session_name, sts_endpoint;
  long count = 10, interval_ms = 1000;
  std::string prefix = "message", security_protocol = "SASL_SSL", ca_location, debug;
  mskiam::PrincipalChange principal_change = mskiam::PrincipalChange::allow;
  std::string events;  // "", "stderr", "log"
};

std::string env_or(const char* name, const char* fallback_name = nullptr) {
  if (const char* v = std::getenv(name); v && *v) return v;
  if (fallback_name)
    if (const char* v = std::getenv(fallback_name); v && *v) return v;
  return {};
}

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "mskiam-producer: " << message << "\n(try --help)\n";
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
      std::cout << usage_text;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "mskiam " << MSKIAM_VERSION_STRING << " librdkafka " << RdKafka::version_str()
                << "\n";
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

// Errors and logs from librdkafka. A broker refusing a re-authentication because the principal
// changed is expected when credentials for another principal were accepted: librdkafka
// reconnects and authenticates afresh, no message is lost. Say so instead of alarming anyone.
class Events : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG) {
      std::cerr << "%" << event.severity() << "|" << event.fac() << "| " << event.str() << "\n";
      return;
    }
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    const std::string text = event.str();
    if (mskiam::rdkafka::is_principal_change(text)) {
      ++principal_change_recoveries;
      std::cerr << "producer: expected recovery: the broker refused re-authentication because the "
                   "principal changed; reconnecting with the new credentials ("
                << text << ")\n";
    } else if (mskiam::rdkafka::is_token_failure(text)) {
      ++token_failures;
      std::cerr << "producer: no new token (librdkafka keeps the current one and retries in 10 s): "
                << text << "\n";
    } else {
      if (event.err() == RdKafka::ERR__AUTHENTICATION) ++auth_errors;
      std::cerr << "producer: " << (event.fatal() ? "FATAL " : "") << "error "
                << RdKafka::err2str(event.err()) << ": " << text << "\n";
    }
  }
  std::atomic<long> principal_change_recoveries{0}, token_failures{0}, auth_errors{0};
};

class Deliveries : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    const std::string value(static_cast<const char*>(m.payload()), m.len());
    if (m.err()) {
      ++failed;
      std::cout << "failed " << value << " " << m.errstr() << std::endl;
    } else {
      ++acknowledged;
      std::cout << "delivered " << m.topic_name() << "/" << m.partition() << "@" << m.offset()
                << " " << value << std::endl;
    }
  }
  long acknowledged = 0, failed = 0;  // only touched by the thread that polls
};

void set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string errstr;
  if (conf.set(name, value, errstr) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("cannot set " + name + ": " + errstr);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
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
    mskiam::rdkafka::RefreshCallback<decltype(provider)> refresh{provider};

    Events events;
    Deliveries deliveries;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string errstr;
    set(*conf, "bootstrap.servers", o.bootstrap);
    set(*conf, "security.protocol", o.security_protocol);
    set(*conf, "client.id", "mskiam-producer");
    set(*conf, "acks", "all");
    if (!o.ca_location.empty()) set(*conf, "ssl.ca.location", o.ca_location);
    if (!o.debug.empty()) set(*conf, "debug", o.debug);
    if (conf->set("event_cb", &events, errstr) != RdKafka::Conf::CONF_OK ||
        conf->set("dr_cb", &deliveries, errstr) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(errstr);

    mskiam::rdkafka::attach(*conf, refresh);  // mskiam: before the client exists
    std::unique_ptr<RdKafka::Producer> producer{RdKafka::Producer::create(conf.get(), errstr)};
    if (!producer) throw std::runtime_error("cannot create the producer: " + errstr);
    mskiam::rdkafka::start(*producer);  // mskiam: refresh on librdkafka's background thread

    long produced = 0;
    for (long i = 1; !stop && (o.count == 0 || i <= o.count); ++i) {
      std::string value = o.prefix + "-" + std::to_string(i);
      RdKafka::ErrorCode err;
      while ((err = producer->produce(o.topic, RdKafka::Topic::PARTITION_UA,
                                      RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                                      nullptr, 0, 0, nullptr)) == RdKafka::ERR__QUEUE_FULL)
        producer->poll(100);
      if (err) {
        std::cerr << "producer: cannot produce " << value << ": " << RdKafka::err2str(err) << "\n";
        break;
      }
      ++produced;
      // Serve delivery reports and errors while waiting for the next message.
      const auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.interval_ms);
      do {
        producer->poll(std::min<long>(100, o.interval_ms));
      } while (!stop && std::chrono::steady_clock::now() < next);
    }
    // Wait for the last acknowledgements (librdkafka retries through reconnections).
    for (int i = 0; i < 600 && producer->outq_len() > 0; ++i) producer->flush(100);

    const auto counters = provider.counters();
    std::cout << "summary produced=" << produced << " acknowledged=" << deliveries.acknowledged
              << " failed=" << deliveries.failed << " unacknowledged=" << producer->outq_len()
              << " principal_change_recoveries=" << events.principal_change_recoveries
              << " token_failures=" << events.token_failures
              << " auth_errors=" << events.auth_errors
              << " credential_fetches=" << counters.fetches << " tokens=" << counters.tokens
              << " principal_changes=" << counters.principal_changes << std::endl;
    return deliveries.acknowledged == produced ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "mskiam-producer: " << e.what() << "\n";
    return 1;
  }
}
