// mskiam-consumer: a librdkafka C++ KafkaConsumer (consumer group) that authenticates to Amazon
// MSK with IAM.
//
//   mskiam-consumer --bootstrap b-1.mycluster...:9098 --region us-east-1 --topic orders
//                   --group billing --role-arn arn:aws:iam::123456789012:role/MskRole
//                   --session-name billing
//
// The lines that matter are marked `mskiam:`. It prints one line per message consumed, and a
// summary when it has consumed --count messages or is interrupted (SIGINT, SIGTERM).
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "example_options.hpp"

namespace {

constexpr const char* usage_text = R"(usage: mskiam-consumer [options]

Consumes --topic in consumer group --group from Amazon MSK (or the MSK-IAM emulator),
authenticating with IAM through mskiam. Credentials come from the default AWS chain, or from the
role --role-arn assumed with it.

options (the consumer's own, then those every example takes; --count: messages to consume):
  --group GROUP                consumer group (default mskiam-example)
)";

struct Options : example::CommonOptions {
  std::string group = "mskiam-example";
};

Options parse(int argc, char** argv) {
  Options o;
  example::parse(argc, argv, "mskiam-consumer", usage_text, o,
                 [&o](const std::string& arg, const example::Value& value) {
                   if (arg != "--group") return false;
                   o.group = value();
                   return true;
                 });
  return o;
}

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop = true; }

// Eager assignment, logged: a consumer that keeps losing its partitions shows it here.
class Rebalance : public RdKafka::RebalanceCb {
 public:
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::string list;
    for (const auto* p : partitions)
      list += " " + p->topic() + "/" + std::to_string(p->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      ++assignments;
      std::cerr << "consumer: assigned" << list << "\n";
      consumer->assign(partitions);
    } else {
      std::cerr << "consumer: revoked" << list << "\n";
      consumer->unassign();
    }
  }
  long assignments = 0;
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
    Rebalance rebalance;
    std::unique_ptr<RdKafka::Conf> conf{RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL)};
    std::string errstr;
    example::set(*conf, "bootstrap.servers", o.bootstrap);
    example::set(*conf, "security.protocol", o.security_protocol);
    example::set(*conf, "client.id", "mskiam-consumer");
    example::set(*conf, "group.id", o.group);
    example::set(*conf, "auto.offset.reset", "earliest");
    if (!o.ca_location.empty()) example::set(*conf, "ssl.ca.location", o.ca_location);
    if (!o.debug.empty()) example::set(*conf, "debug", o.debug);
    if (conf->set("event_cb", &events, errstr) != RdKafka::Conf::CONF_OK ||
        conf->set("rebalance_cb", &rebalance, errstr) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(errstr);

    mskiam::rdkafka::attach(*conf, refresh);  // mskiam: before the client exists
    std::unique_ptr<RdKafka::KafkaConsumer> consumer{
        RdKafka::KafkaConsumer::create(conf.get(), errstr)};
    if (!consumer) throw std::runtime_error("cannot create the consumer: " + errstr);
    mskiam::rdkafka::start(*consumer);  // mskiam: refresh on librdkafka's background thread

    if (const RdKafka::ErrorCode err = consumer->subscribe({o.topic}))
      throw std::runtime_error("cannot subscribe to " + o.topic + ": " + RdKafka::err2str(err));

    long consumed = 0;
    while (!stop && (o.count == 0 || consumed < o.count)) {
      std::unique_ptr<RdKafka::Message> m{consumer->consume(200)};
      metrics.write(provider, "mskiam-consumer");
      if (m->err() == RdKafka::ERR_NO_ERROR) {
        ++consumed;
        std::cout << "consumed " << m->topic_name() << "/" << m->partition() << "@" << m->offset()
                  << " " << std::string(static_cast<const char*>(m->payload()), m->len())
                  << std::endl;
      } else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
        std::cerr << "consumer: " << m->errstr() << "\n";
      }
    }
    consumer->close();  // leave the group now rather than after the session timeout

    const auto counters = provider.counters();
    std::cout << "summary consumed=" << consumed << " assignments=" << rebalance.assignments
              << " " << events.errors.summary()
              << " credential_fetches=" << counters.fetches << " tokens=" << counters.tokens
              << " principal_changes=" << counters.principal_changes << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mskiam-consumer: " << e.what() << "\n";
    return 1;
  }
}
