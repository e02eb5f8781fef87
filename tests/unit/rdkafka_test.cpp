// The librdkafka adapter against real librdkafka clients, without a broker: a loopback listener
// that only counts connections shows when librdkafka accepted a token (it does not connect
// before it has one). Broker-level behaviour is in the end-to-end tests with the emulator.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/rdkafka.hpp"
#include "mskiam/sources/static.hpp"

namespace {

using namespace std::chrono_literals;

// Accepts and counts TCP connections on 127.0.0.1:<ephemeral>, closing each at once.
class ConnectionCounter {
 public:
  ConnectionCounter() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    REQUIRE(listen(fd_, 16) == 0);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) {
          if (c >= 0) close(c);
          return;
        }
        ++count_;
        close(c);
      }
    });
  }
  ~ConnectionCounter() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  int count() const { return count_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> count_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A source that counts its calls and can be told to fail.
struct CountingSource {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> fail = std::make_shared<std::atomic<bool>>(false);
  std::string principal;
  std::chrono::seconds lifetime = 1h;

  mskiam::Credentials fetch() {
    ++*calls;
    if (*fail)
      throw mskiam::Error(mskiam::ErrorKind::timeout, "counting", "STS did not answer in 5000 ms");
    mskiam::Credentials c;
    c.access_key_id = "ASIACOUNTING";
    c.secret_access_key = "counting-secret-value";
    c.session_token = "counting-session-token";
    c.expiration = std::chrono::system_clock::now() + lifetime;
    c.principal = principal;
    return c;
  }
  std::string_view name() const { return "counting"; }
};

using Provider = mskiam::TokenProvider<CountingSource>;

mskiam::TokenOptions options() {
  mskiam::TokenOptions o;
  o.region = "us-east-1";
  return o;
}

rd_kafka_conf_t* sasl_conf(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[256];
  REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr) ==
          RD_KAFKA_CONF_OK);
  REQUIRE(rd_kafka_conf_set(conf, "security.protocol", "SASL_PLAINTEXT", errstr, sizeof errstr) ==
          RD_KAFKA_CONF_OK);
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  return conf;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct ErrorLog {
  std::mutex mutex;
  std::vector<std::string> texts;
  static void callback(rd_kafka_t*, int, const char* reason, void* opaque) {
    auto* self = static_cast<ErrorLog*>(opaque);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->texts.emplace_back(reason);
  }
  bool contains(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& t : texts)
      if (t.find(needle) != std::string::npos) return true;
    return false;
  }
  std::string all() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (const auto& t : texts) out += t + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("rdkafka C API: a client that never polls gets its token on the background thread") {
  ConnectionCounter broker;
  CountingSource source;
  Provider provider{source, options()};
  rd_kafka_conf_t* conf = sasl_conf(broker.bootstrap());
  int app_opaque = 42;
  rd_kafka_conf_set_opaque(conf, &app_opaque);
  mskiam::rdkafka::attach(conf, provider);
  char errstr[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  mskiam::rdkafka::start(rk);
  // No rd_kafka_poll anywhere: the token is fetched and accepted, so the client connects.
  CHECK(eventually([&] { return broker.count() > 0; }));
  CHECK(*source.calls == 1);
  CHECK(rd_kafka_opaque(rk) == &app_opaque);  // the application's opaque is untouched
  rd_kafka_destroy(rk);
}

TEST_CASE("rdkafka C API: without start() nothing serves the callback") {
  ConnectionCounter broker;
  CountingSource source;
  Provider provider{source, options()};
  rd_kafka_conf_t* conf = sasl_conf(broker.bootstrap());
  mskiam::rdkafka::attach(conf, provider);
  char errstr[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  std::this_thread::sleep_for(500ms);
  CHECK(*source.calls == 0);
  CHECK(broker.count() == 0);
  rd_kafka_destroy(rk);
}

TEST_CASE("rdkafka C API: two clients with different providers each use their own") {
  ConnectionCounter broker_a, broker_b, broker_a2;
  CountingSource source_a, source_b;
  Provider provider_a{source_a, options()}, provider_b{source_b, options()};
  rd_kafka_conf_t* conf_a = sasl_conf(broker_a.bootstrap());
  rd_kafka_conf_t* conf_b = sasl_conf(broker_b.bootstrap());
  mskiam::rdkafka::attach(conf_a, provider_a);
  mskiam::rdkafka::attach(conf_b, provider_b);
  rd_kafka_conf_t* conf_a2 = rd_kafka_conf_dup(conf_a);  // a copy keeps its provider
  char errstr[256];
  rd_kafka_conf_set(conf_a2, "bootstrap.servers", broker_a2.bootstrap().c_str(), errstr, sizeof errstr);
  rd_kafka_t* a = rd_kafka_new(RD_KAFKA_PRODUCER, conf_a, errstr, sizeof errstr);
  rd_kafka_t* b = rd_kafka_new(RD_KAFKA_CONSUMER, conf_b, errstr, sizeof errstr);
  rd_kafka_t* a2 = rd_kafka_new(RD_KAFKA_PRODUCER, conf_a2, errstr, sizeof errstr);
  REQUIRE((a && b && a2));
  mskiam::rdkafka::start(a);
  mskiam::rdkafka::start(b);
  mskiam::rdkafka::start(a2);
  CHECK(eventually(
      [&] { return broker_a.count() > 0 && broker_b.count() > 0 && broker_a2.count() > 0; }));
  // Each provider fetched once: the copy's client was served by provider_a, not a new one.
  CHECK(*source_a.calls == 1);
  CHECK(*source_b.calls == 1);
  rd_kafka_destroy(a);
  rd_kafka_destroy(b);
  rd_kafka_destroy(a2);
}

TEST_CASE("rdkafka C API: a failing source reaches error_cb with its cause and no secret") {
  ConnectionCounter broker;
  CountingSource source;
  *source.fail = true;
  Provider provider{source, options()};
  ErrorLog errors;
  rd_kafka_conf_t* conf = sasl_conf(broker.bootstrap());
  rd_kafka_conf_set_error_cb(conf, &ErrorLog::callback);
  rd_kafka_conf_set_opaque(conf, &errors);
  mskiam::rdkafka::attach(conf, provider);
  char errstr[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  mskiam::rdkafka::start(rk);
  CHECK(eventually([&] {
    rd_kafka_poll(rk, 50);  // error_cb is served by polling
    return errors.contains("counting: timeout: STS did not answer in 5000 ms");
  }));
  const std::string text = errors.all();
  INFO(text);
  CHECK(mskiam::rdkafka::is_token_failure(text));
  CHECK(text.find("counting-secret-value") == std::string::npos);
  CHECK(text.find("counting-session-token") == std::string::npos);
  CHECK(broker.count() == 0);  // no token, no connection
  rd_kafka_destroy(rk);
}

TEST_CASE("rdkafka C API: attaching twice to one configuration is refused") {
  CountingSource source;
  Provider provider{source, options()};
  rd_kafka_conf_t* conf = sasl_conf("127.0.0.1:1");
  mskiam::rdkafka::attach(conf, provider);
  CHECK_THROWS_WITH(mskiam::rdkafka::attach(conf, provider),
                    mskiam_test::contains_substring("already attached"));
  rd_kafka_conf_destroy(conf);
}

TEST_CASE("rdkafka C API: start() without attach() says what is missing") {
  rd_kafka_conf_t* conf = sasl_conf("127.0.0.1:1");
  char errstr[256];
  rd_kafka_conf_set(conf, "sasl.mechanisms", "OAUTHBEARER", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "enable.sasl.oauthbearer.unsecure.jwt", "false", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  CHECK_THROWS_WITH(mskiam::rdkafka::start(rk), mskiam_test::contains_substring("was attach() called"));
  rd_kafka_destroy(rk);
}

TEST_CASE("rdkafka C++ API: RefreshCallback serves a producer that never polls") {
  ConnectionCounter broker;
  CountingSource source;
  source.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/app";
  Provider provider{source, options()};
  mskiam::rdkafka::RefreshCallback<Provider> callback{provider};
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string errstr;
  conf->set("bootstrap.servers", broker.bootstrap(), errstr);
  conf->set("security.protocol", "SASL_PLAINTEXT", errstr);
  conf->set("log_level", "0", errstr);
  mskiam::rdkafka::attach(*conf, callback);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  REQUIRE(producer);
  mskiam::rdkafka::start(*producer);
  CHECK(eventually([&] { return broker.count() > 0; }));
  CHECK(*source.calls == 1);
}

namespace {
// The shape of modern-cpp-kafka's kafka::clients::OAuthBearerToken, without that library.
struct ModernToken {
  std::string value;
  std::chrono::microseconds mdLifetime{};
  std::string mdPrincipalName;
};
}  // namespace

TEST_CASE("token struct for wrappers: OAuthBearerToken and modern-cpp-kafka's shape") {
  CountingSource source;
  source.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/app";
  mskiam::ProviderOptions exact;  // the first refresh after the token's end: a full lifetime
  exact.refresh.refresh_jitter = 0;
  Provider provider{source, options(), exact};
  const auto plain = mskiam::rdkafka::oauthbearer_token(provider);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(plain.md_lifetime_ms > now_ms + 890'000);
  CHECK(plain.md_lifetime_ms <= now_ms + 900'000);
  CHECK(plain.md_principal_name == source.principal);
  CHECK(mskiam::decode_token(plain.value).host == "kafka.us-east-1.amazonaws.com");
  const auto modern = mskiam::rdkafka::oauthbearer_token<ModernToken>(provider);
  CHECK(modern.mdLifetime.count() == plain.md_lifetime_ms * 1000);
  CHECK(modern.mdPrincipalName == source.principal);
}

TEST_CASE("librdkafka is asked to call again at the provider's refresh time - not at 80% of expiry") {
  CountingSource source;
  source.lifetime = 20s;  // refresh due after 2/3 of 20 s; tokens end at ~19.6 s
  mskiam::ProviderOptions exact;  // the refresh point itself, not one drawn below it
  exact.refresh.refresh_jitter = 0;
  Provider provider{source, options(), exact};
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const auto t = mskiam::rdkafka::oauthbearer_token(provider);
  // librdkafka calls at 80% of md_lifetime: 0.8 * 16.7 s = the refresh point at 13.3 s.
  CHECK(t.md_lifetime_ms >= now_ms + 15'500);
  CHECK(t.md_lifetime_ms <= now_ms + 17'500);
  CHECK(t.md_lifetime_ms < std::chrono::duration_cast<std::chrono::milliseconds>(
                               mskiam::decode_token(t.value).expires_at().time_since_epoch()).count());
}

TEST_CASE("error classifier: a principal change on re-authentication is expected") {
  CHECK(mskiam::rdkafka::is_principal_change(
      "sasl_ssl://b-1.example:9098/1: SASL authentication error: Cannot change principals during "
      "re-authentication from IAM.arn:aws:sts::1:assumed-role/R/a: IAM.arn:aws:sts::1:assumed-role/R/b "
      "(after 3 ms in state AUTH_REQ)"));
  CHECK_FALSE(mskiam::rdkafka::is_principal_change("SASL authentication error: Access denied"));
  CHECK(mskiam::rdkafka::is_token_failure(
      "Failed to acquire SASL OAUTHBEARER token: mskiam: sts: timeout: ..."));
  CHECK_FALSE(mskiam::rdkafka::is_token_failure("Connect to ipv4#127.0.0.1:1 failed"));
}

namespace {
std::vector<std::string>& printed() {
  static std::vector<std::string> lines;
  return lines;
}
void capture_printer(const rd_kafka_t*, int level, const char* facility, const char* text) {
  printed().push_back(std::to_string(level) + "|" + facility + "|" + text);
}
}  // namespace

TEST_CASE("librdkafka_log_events: events in librdkafka's log format - filtered by severity") {
  printed().clear();
  auto handler = mskiam::rdkafka::librdkafka_log_events(mskiam::Severity::info, &capture_printer);
  mskiam::Event fetched{mskiam::EventType::credentials_fetched, {}, "web_identity", "ASIAX", "arn:p",
                        {}, {}, {}, {}};
  mskiam::Event token{mskiam::EventType::token_issued, {}, "web_identity", "ASIAX", "arn:p", {}, {}, {}, {}};
  handler(fetched);
  handler(token);  // debug: filtered out at info
  REQUIRE(printed().size() == 1);
  CHECK(printed()[0] == "6|MSKIAM|credentials_fetched source=web_identity access_key_id=ASIAX principal=arn:p");
}

TEST_CASE("rdkafka: runs against the librdkafka version the build expects") {
  // scripts/test.sh sets this for the build against librdkafka 2.8.0, so a wrong library
  // picked up at run time (Debian's 2.0.2) fails here instead of silently testing the old one.
  if (const char* expected = std::getenv("MSKIAM_EXPECT_RDKAFKA_VERSION"))
    CHECK(std::string(rd_kafka_version_str()) == expected);
  CHECK(rd_kafka_version() >= 0x020002ff);
}
