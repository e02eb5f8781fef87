// mskiam-producer: a librdkafka C++ producer that authenticates to Amazon MSK with IAM.
//
//   mskiam-producer --bootstrap b-1.mycluster...:9098 --region us-east-1 --topic orders
//                   --role-arn arn:aws:iam::123456789012:role/MskRole --session-name orders-api
//
// The three lines that matter are marked `mskiam:` below: a TokenProvider over a credential source,
// attach() before the producer is created, start() after. Everything else is an ordinary producer.
// It prints one line per acknowledged message (`delivered <topic>/<partition>@<offset> <value>
// latency_us=<since produce()> mono_ms=<CLOCK_MONOTONIC>`) and a summary; exit status 0 when
// every message was acknowledged.
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

#include "example_options.hpp"

namespace {

constexpr const char* usage_text = R"(usage: mskiam-producer [options]

Produces --count messages to --topic on Amazon MSK (or the MSK-IAM emulator), authenticating with
IAM through mskiam. Credentials come from the default AWS chain, or from the role --role-arn assumed
with it.
)";

using Options = example::ProducerOptions;

Options parse(int argc, char** argv) {
  return example::parse_producer(argc, argv, "mskiam-producer", usage_text);
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop = true; }

class Deliveries : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    const std::string value(static_cast<const char*>(m.payload()), m.len());
    if (m.err()) {
      ++failed;
      std::cout << "failed " << value << " " << m.errstr() << std::endl;
    } else {
      ++acknowledged;
      const auto mono_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
      std::cout << "delivered " << m.topic_name() << "/" << m.partition() << "@" << m.offset()
                << " " << value << " latency_us=" << m.latency() << " mono_ms=" << mono_ms
                << std::endl;
    }
  }
  long acknowledged = 0, failed = 0;  // only touched by the thread that polls
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    // mskiam: a token provider over the credential source, for the cluster's region.
    mskiam::TokenProvider<mskiam::AnySource, ExampleClock> provider{
        make_source(o.region, o.role_arn, o.session_name, o.sts_endpoint),
        example::token_options(o), example::provider_options(o)};
    mskiam::rdkafka::RefreshCallback<decltype(provider)> refresh{provider};

    example::LoggingEvents events;
    example::MetricsFile metrics{o.metrics_file};
    Deliveries deliveries;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string errstr;
    example::set(*conf, "bootstrap.servers", o.bootstrap);
    example::set(*conf, "security.protocol", o.security_protocol);
    example::set(*conf, "client.id", "mskiam-producer");
    example::set(*conf, "acks", "all");
    example::set(*conf, "enable.idempotence", "true");  // no duplicates when a retry follows a reconnection
    if (!o.ca_location.empty()) example::set(*conf, "ssl.ca.location", o.ca_location);
    if (!o.debug.empty()) example::set(*conf, "debug", o.debug);
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
        producer->poll(static_cast<int>(std::min<long>(100, o.interval_ms)));
        metrics.write(provider, "mskiam-producer");
      } while (!stop && std::chrono::steady_clock::now() < next);
    }
    // Wait for the last acknowledgements (librdkafka retries through reconnections).
    for (int i = 0; i < 600 && producer->outq_len() > 0; ++i) {
      producer->flush(100);
      metrics.write(provider, "mskiam-producer");
    }

    const auto counters = provider.counters();
    std::cout << "summary produced=" << produced << " acknowledged=" << deliveries.acknowledged
              << " failed=" << deliveries.failed << " unacknowledged=" << producer->outq_len()
              << " " << events.errors.summary()
              << " credential_fetches=" << counters.fetches << " tokens=" << counters.tokens
              << " principal_changes=" << counters.principal_changes << std::endl;
    return deliveries.acknowledged == produced ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "mskiam-producer: " << e.what() << "\n";
    return 1;
  }
}
