// What the three client examples (producer.cpp, consumer.cpp, c_producer.cpp) share: where
// credentials come from, the flags they all take, the provider options those flags make, and how
// a librdkafka error is classified. Each example adds its own flags and its own client.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>

#include "mskiam/mskiam.hpp"
#include "mskiam/rdkafka.hpp"
#include "mskiam/sources/any.hpp"

// ---- Where credentials come from: the one place to change ---------------------------------------
// The end-to-end tests compile the examples with MSKIAM_EXAMPLE_SOURCE naming a header that
// provides make_source() (a simulated STS); everyone else gets the function below.
#if defined(MSKIAM_EXAMPLE_SOURCE)
#include MSKIAM_EXAMPLE_SOURCE
#else
namespace {
// The default credential chain (environment, profile, web identity, container, instance
// metadata), optionally assuming `role_arn` with it. A fixed session name makes the principal
// `assumed-role/<role>/<session_name>` the same at every refresh. MSKIAM_EXAMPLE_DEFAULT_CHAIN
// (examples/CMakeLists.txt) is 0 in builds without libcurl: environment variables only.
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

// The provider's clock: the system clock. The chaos suite compiles the examples with
// MSKIAM_EXAMPLE_CLOCK naming a header whose ExampleClock it can step (tests/chaos).
#if defined(MSKIAM_EXAMPLE_CLOCK)
#include MSKIAM_EXAMPLE_CLOCK
#else
using ExampleClock = std::chrono::system_clock;
#endif
// -------------------------------------------------------------------------------------------------

namespace example {

// The help text of the flags every example takes.
constexpr const char* common_usage = R"(  --bootstrap HOST:PORT[,...]  brokers (default: $MSK_BOOTSTRAP)
  --region REGION              region of the cluster (default: $AWS_REGION, $AWS_DEFAULT_REGION)
  --topic TOPIC                (default mskiam-example)
  --role-arn ARN               assume this role over the default chain
  --session-name NAME          fixed STS role session name: one principal for the process' life
  --sts-endpoint URL           STS endpoint (default: the region's, sts.REGION.amazonaws.com)
  --count N                    messages, 0 = until interrupted (default 10)
  --security-protocol P        SASL_SSL (default; MSK) or SASL_PLAINTEXT (emulator)
  --ca-location PATH           CA bundle for SASL_SSL (ssl.ca.location)
  --principal-change allow|reject
                               allow (default): take credentials for a new principal and let the
                               client reconnect; reject: keep the old ones while they are valid
  --events[=stderr|log]        print credential events (stderr: `mskiam: ...` lines; log: in
                               librdkafka's log format)
  --metrics-file PATH          write the provider's Prometheus metrics to PATH every second
                               (through PATH.tmp and a rename, as node_exporter's textfile
                               collector wants; C++ examples)
  --debug CONTEXTS             librdkafka debug contexts, e.g. security,broker
  --version                    print the mskiam and librdkafka versions
  -h, --help                   this text
)";

struct CommonOptions {
  std::string bootstrap, region, topic = "mskiam-example";
  std::string role_arn, session_name, sts_endpoint;
  long count = 10;
  std::string security_protocol = "SASL_SSL", ca_location, debug;
  mskiam::PrincipalChange principal_change = mskiam::PrincipalChange::allow;
  std::string events;  // "", "stderr", "log"
  std::string metrics_file;
};

inline const char* program = "example";

[[noreturn]] inline void usage_error(const std::string& message) {
  std::cerr << program << ": " << message << "\n(try --help)\n";
  std::exit(2);
}

inline std::string env_or(const char* name, const char* fallback_name = nullptr) {
  if (const char* v = std::getenv(name); v && *v) return v;
  if (fallback_name)
    if (const char* v = std::getenv(fallback_name); v && *v) return v;
  return {};
}

inline long to_long(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 0) usage_error(flag + " takes a whole number >= 0");
  return n;
}

using Value = std::function<std::string()>;
// An example's own flags: returns false for a flag it does not know.
using ExtraFlag = std::function<bool(const std::string& arg, const Value& value)>;

// Parses the command line into `o`; `extra` handles the example's own flags. Exits on --help,
// --version and usage errors (status 2).
inline void parse(int argc, char** argv, const char* name, const std::string& usage,
                  CommonOptions& o, const ExtraFlag& extra) {
  program = name;
  o.bootstrap = env_or("MSK_BOOTSTRAP");
  o.region = env_or("AWS_REGION", "AWS_DEFAULT_REGION");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const Value value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << usage << common_usage;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "mskiam " << MSKIAM_VERSION_STRING << " librdkafka " << rd_kafka_version_str()
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
    } else if (arg == "--security-protocol") {
      o.security_protocol = value();
    } else if (arg == "--ca-location") {
      o.ca_location = value();
    } else if (arg == "--debug") {
      o.debug = value();
    } else if (arg == "--metrics-file") {
      o.metrics_file = value();
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
    } else if (!extra(arg, value)) {
      usage_error("unknown argument " + arg);
    }
  }
  if (o.bootstrap.empty()) usage_error("--bootstrap is required (or set MSK_BOOTSTRAP)");
  if (o.region.empty()) usage_error("--region is required (or set AWS_REGION)");
  if (o.security_protocol != "SASL_SSL" && o.security_protocol != "SASL_PLAINTEXT")
    usage_error("--security-protocol is SASL_SSL or SASL_PLAINTEXT");
}

// The two producers (C++ and C API): the common flags and their own.
struct ProducerOptions : CommonOptions {
  long interval_ms = 1000;
  std::string prefix = "message";
};

inline ProducerOptions parse_producer(int argc, char** argv, const char* name, const char* usage) {
  ProducerOptions o;
  const std::string text = std::string(usage) +
                           "\noptions (the producer's own, then those every example takes):\n"
                           "  --interval-ms MS             pause between messages (default 1000)\n"
                           "  --message-prefix TEXT        message values are TEXT-1, TEXT-2, ... "
                           "(default message)\n";
  parse(argc, argv, name, text, o, [&o](const std::string& arg, const Value& value) {
    if (arg == "--interval-ms")
      o.interval_ms = to_long(arg, value());
    else if (arg == "--message-prefix")
      o.prefix = value();
    else
      return false;
    return true;
  });
  return o;
}

// mskiam: the token provider over the credential source, for the cluster's region.
inline mskiam::ProviderOptions provider_options(const CommonOptions& o) {
  mskiam::ProviderOptions p;
  p.principal_change = o.principal_change;
  if (o.events == "stderr") p.on_event = mskiam::stderr_events();
  if (o.events == "log") p.on_event = mskiam::rdkafka::librdkafka_log_events();
  return p;
}

inline mskiam::TokenOptions token_options(const CommonOptions& o) {
  mskiam::TokenOptions t;
  t.region = o.region;
  return t;
}

// --metrics-file: the provider's metrics in the Prometheus text format, rewritten at most once a
// second from the loop that polls the client, so that a scraper (or a test) sees them move.
class MetricsFile {
 public:
  explicit MetricsFile(std::string path) : path_(std::move(path)) {}

  template <class Provider>
  void write(Provider& provider, const char* client) {
    const auto now = std::chrono::steady_clock::now();
    if (path_.empty() || now < next_) return;
    next_ = now + std::chrono::seconds(1);
    std::string text;
    mskiam::write_prometheus(text, provider, {{"client", client}});
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0)
      throw std::runtime_error("cannot rename " + tmp + " to " + path_);
  }

 private:
  std::string path_;
  std::chrono::steady_clock::time_point next_{};
};

// One librdkafka setting of a C++ client's configuration; throws naming it when refused.
inline void set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string errstr;
  if (conf.set(name, value, errstr) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("cannot set " + name + ": " + errstr);
}

// librdkafka's errors, classified. A broker refusing a re-authentication because the principal
// changed is expected when credentials for another principal were accepted: librdkafka
// reconnects and authenticates afresh, no message is lost. Say so instead of alarming anyone.
struct ErrorReport {
  std::atomic<long> principal_change_recoveries{0}, token_failures{0}, auth_errors{0};

  void report(const std::string& text, bool authentication, bool fatal, const std::string& code) {
    if (mskiam::rdkafka::is_principal_change(text)) {
      ++principal_change_recoveries;
      std::cerr << program << ": expected recovery: the broker refused re-authentication because "
                << "the principal changed; reconnecting with the new credentials (" << text << ")\n";
    } else if (mskiam::rdkafka::is_token_failure(text)) {
      ++token_failures;
      std::cerr << program << ": no new token (librdkafka keeps the current one and retries in "
                << "10 s): " << text << "\n";
    } else {
      if (authentication) ++auth_errors;
      std::cerr << program << ": " << (fatal ? "FATAL " : "") << "error " << code << ": " << text
                << "\n";
    }
  }

  std::string summary() const {
    return "principal_change_recoveries=" + std::to_string(principal_change_recoveries) +
           " token_failures=" + std::to_string(token_failures) +
           " auth_errors=" + std::to_string(auth_errors);
  }
};

// The C++ examples' event callback: librdkafka's logs as it prints them, errors classified.
class LoggingEvents : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG) {
      std::cerr << "%" << event.severity() << "|" << event.fac() << "| " << event.str() << "\n";
      return;
    }
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    errors.report(event.str(), event.err() == RdKafka::ERR__AUTHENTICATION, event.fatal(),
                  RdKafka::err2str(event.err()));
  }
  ErrorReport errors;
};

}  // namespace example
