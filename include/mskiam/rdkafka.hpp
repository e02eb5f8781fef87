// The librdkafka adapter: one call plugs a TokenProvider into a producer or consumer through
// librdkafka's OAUTHBEARER token refresh callback, with the C API, the C++ API, or any wrapper
// that takes a token struct (modern-cpp-kafka).
//
// C API                                        C++ API
//   rd_kafka_conf_t* conf = ...;                 mskiam::rdkafka::RefreshCallback cb{provider};
//   mskiam::rdkafka::attach(conf, provider);     mskiam::rdkafka::attach(*conf, cb);
//   rd_kafka_t* rk = rd_kafka_new(..., conf,..); auto* producer = RdKafka::Producer::create(conf, err);
//   mskiam::rdkafka::start(rk);                  mskiam::rdkafka::start(*producer);
//
// start() serves the callback on librdkafka's background thread, so a client that never polls
// still authenticates and refreshes. The application keeps its `opaque`; several clients with
// different providers in one process work. A provider must outlive the clients that use it.
//
// Every refresh hands librdkafka the token, its expiry (md_lifetime_ms: never in the past, never
// after the credentials' expiry) and the principal. Every failure calls set_token_failure with the
// error's text, which names the source and the cause and never holds a secret; librdkafka keeps
// the previous token and asks again 10 s later.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mskiam/config.hpp"
#include "mskiam/events.hpp"
#include "mskiam/token.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace rdkafka {

inline constexpr std::string_view adapter_source = "rdkafka";
inline constexpr const char* interceptor_name = "mskiam";
inline constexpr std::string_view principal_change_text =
    "Cannot change principals during re-authentication";
inline constexpr std::string_view token_failure_text = "Failed to acquire SASL OAUTHBEARER token";
inline constexpr std::int64_t min_refresh_wait_ms = 1000;

// The fields librdkafka's set_token takes.
struct OAuthBearerToken {
  std::string value;
  std::int64_t md_lifetime_ms = 0;  // absolute: milliseconds since the Unix epoch
  std::string md_principal_name;
};

// The templates below only bind a provider's type to the code that follows, which does not depend
// on it (and is compiled once, by src/rdkafka.cpp, in the compiled mode: mskiam/config.hpp).
namespace detail {

// A token in librdkafka's terms, checked for what librdkafka would refuse: an expiry that is not
// in the future of the wall clock librdkafka compares it with. librdkafka asks again at 80% of
// md_lifetime_ms and at no other time, so when the token carries refresh_at the lifetime reported
// brings the next call to that time (at least a second away); the token itself stays valid until
// its real expiry for re-authentication. Throws mskiam::Error (source `rdkafka`).
OAuthBearerToken to_oauthbearer(const AuthToken& token);

template <class Provider>
OAuthBearerToken fetch_token(Provider& provider) {
  return to_oauthbearer(provider.token());
}

// A provider behind a pointer: what librdkafka's callbacks, which know no types, hold.
using FetchToken = OAuthBearerToken (*)(void* provider);
template <class Provider>
OAuthBearerToken fetch_token_of(void* provider) {
  return fetch_token(*static_cast<Provider*>(provider));
}

// Asks `fetch(provider)` for a token and hands it to the client with set_token, or reports the
// failure with set_token_failure. Never throws: this runs on librdkafka's threads, and every
// request must end in one of the two or the client never asks again. librdkafka's own error
// text is never passed on (it may quote the token).
void deliver(rd_kafka_t* rk, FetchToken fetch, void* provider) noexcept;
void deliver(RdKafka::Handle* handle, FetchToken fetch, void* provider) noexcept;

// attach() without the provider's type: `fetch(provider)` serves every client made from `conf`.
void attach(rd_kafka_conf_t* conf, FetchToken fetch, void* provider);
void attach(RdKafka::Conf& conf, RdKafka::OAuthBearerTokenRefreshCb* callback);

// What the refresh callback of the C API finds for a client: `fetch(provider)` serves it, and
// `keep` holds whatever keeps `provider` alive when the binding owns it (the plugin's shared
// providers; attach() leaves it empty: the application owns its provider).
struct Binding {
  FetchToken fetch = nullptr;
  void* provider = nullptr;
  std::shared_ptr<const void> keep;
};

// The client registry of the C API. bind_client(), from an on_new interceptor, makes `binding`
// serve c_refresh for `rk` until the client is destroyed (it adds the on_destroy interceptor
// that lets go); a refresh in flight keeps its binding alive.
rd_kafka_resp_err_t bind_client(rd_kafka_t* rk, std::shared_ptr<const Binding> binding);
void c_refresh(rd_kafka_t* rk, const char* oauthbearer_config, void* opaque);

// Throws mskiam::Error (source `rdkafka`) when this librdkafka lacks SASL/OAUTHBEARER.
void require_oauthbearer_support();

// One provider event as one line in librdkafka's log format (facility MSKIAM), `label` first.
void print_event(void (*printer)(const rd_kafka_t*, int, const char*, const char*),
                 const Event& e, std::string_view label = {});

template <class T, class = void>
struct has_modern_fields : std::false_type {};
template <class T>
struct has_modern_fields<
    T, std::void_t<decltype(std::declval<T&>().value), decltype(std::declval<T&>().mdLifetime),
                   decltype(std::declval<T&>().mdPrincipalName)>> : std::true_type {};

}  // namespace detail

// C API. Before rd_kafka_new: sets sasl.mechanisms=OAUTHBEARER and the refresh callback, routes
// SASL callbacks to their own queue, and registers `provider` for every client made from `conf`
// (or from copies of it). Throws mskiam::Error if librdkafka lacks OAUTHBEARER or `conf` already
// has a provider attached. The application's opaque is left alone.
template <class Provider>
void attach(rd_kafka_conf_t* conf, Provider& provider) {
  detail::attach(conf, &detail::fetch_token_of<Provider>, &provider);
}

// C API. After rd_kafka_new: serve the refresh callback on librdkafka's background thread.
void start(rd_kafka_t* rk);

// C++ API: an RdKafka::OAuthBearerTokenRefreshCb over any provider. It holds a reference; keep
// it and the provider alive as long as the client.
template <class Provider>
class RefreshCallback : public RdKafka::OAuthBearerTokenRefreshCb {
 public:
  explicit RefreshCallback(Provider& provider) : provider_(provider) {}

  void oauthbearer_token_refresh_cb(RdKafka::Handle* handle, const std::string&) override {
    detail::deliver(handle, &detail::fetch_token_of<Provider>, &provider_);
  }

  Provider& provider() noexcept { return provider_; }

 private:
  Provider& provider_;
};

// C++ API. Before Producer::create / KafkaConsumer::create: sets sasl.mechanisms=OAUTHBEARER and
// the callback, and routes SASL callbacks to their own queue.
template <class Provider>
void attach(RdKafka::Conf& conf, RefreshCallback<Provider>& callback) {
  detail::attach(conf, &callback);
}

// C++ API. After the client is created: serve the callback on librdkafka's background thread.
void start(RdKafka::Handle& handle);

// Wrappers that take a token struct from a callback: returns OAuthBearerToken, or any struct with
// modern-cpp-kafka's fields (`value`, `mdLifetime` as a duration since the epoch,
// `mdPrincipalName`) without that library being included here. Throws mskiam::Error.
//   props.put("oauthbearer_token_refresh_cb", [&](const std::string&) {
//     return mskiam::rdkafka::oauthbearer_token<kafka::clients::OAuthBearerToken>(provider); });
template <class Token = OAuthBearerToken, class Provider>
Token oauthbearer_token(Provider& provider) {
  OAuthBearerToken t = detail::fetch_token(provider);
  if constexpr (std::is_same_v<Token, OAuthBearerToken>) {
    return t;
  } else {
    static_assert(detail::has_modern_fields<Token>::value,
                  "Token needs the fields value, mdLifetime and mdPrincipalName");
    Token out{};
    out.value = std::move(t.value);
    out.mdLifetime = std::chrono::duration_cast<decltype(out.mdLifetime)>(
        std::chrono::milliseconds(t.md_lifetime_ms));
    out.mdPrincipalName = std::move(t.md_principal_name);
    return out;
  }
}

// Provider events in librdkafka's log format, through one of librdkafka's own log printers
// (rd_kafka_log_print to stderr by default, or rd_kafka_log_syslog), facility MSKIAM:
//   %6|1700000000.123|MSKIAM|| credentials_fetched source=web_identity principal=arn:...
// Pass it as ProviderOptions::on_event.
EventHandler librdkafka_log_events(
    Severity max = Severity::info,
    void (*printer)(const rd_kafka_t*, int, const char*, const char*) = &rd_kafka_log_print);

// For error_cb: the broker refused a re-authentication because the principal changed. Expected
// and recoverable in the principal-tolerant mode: librdkafka reconnects and authenticates afresh
// with the new principal. Not a reason to alert or restart.
inline bool is_principal_change(std::string_view error_text) noexcept {
  return error_text.find(principal_change_text) != std::string_view::npos;
}

// For error_cb: mskiam could not produce a token (set_token_failure). librdkafka keeps the
// previous token and asks again in 10 s; the text names the credential source and the cause.
inline bool is_token_failure(std::string_view error_text) noexcept {
  return error_text.find(token_failure_text) != std::string_view::npos;
}

}  // namespace rdkafka
MSKIAM_END_NAMESPACE

#if MSKIAM_RDKAFKA_DEFINITIONS
#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace rdkafka {
namespace detail {

MSKIAM_INLINE OAuthBearerToken to_oauthbearer(const AuthToken& token) {
  OAuthBearerToken out;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  out.md_lifetime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           token.expires_at.time_since_epoch())
                           .count();
  if (token.refresh_at) {
    const std::int64_t refresh_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        token.refresh_at->time_since_epoch())
                                        .count();
    const std::int64_t wait_ms = std::max<std::int64_t>(refresh_ms - now_ms, min_refresh_wait_ms);
    out.md_lifetime_ms = std::min(out.md_lifetime_ms, now_ms + wait_ms * 5 / 4);
  }
  if (out.md_lifetime_ms <= now_ms)
    throw Error(ErrorKind::expired, std::string(adapter_source),
                "the provider returned a token that expires at " +
                    mskiam::detail::iso8601(token.expires_at) +
                    ", not in the future of this machine's clock");
  out.value = token.value;
  out.md_principal_name = token.principal;
  return out;
}

// Calls `fetch` and reports through the two hooks; `set_token` returns librdkafka's refusal, if any.
template <class SetToken, class SetFailure>
void deliver_with(FetchToken fetch, void* provider, SetToken&& set_token,
                  SetFailure&& set_failure) noexcept {
  try {
    OAuthBearerToken token = fetch(provider);
    const std::string refused = set_token(token);
    mskiam::detail::cleanse(token.value);
    if (refused.empty()) return;
    set_failure("mskiam: librdkafka refused the token: " + refused);
  } catch (const std::exception& e) {
    try {
      set_failure(std::string("mskiam: ") + e.what());
    } catch (...) {
      set_failure("mskiam: token refresh failed");
    }
  } catch (...) {
    set_failure("mskiam: token refresh failed");
  }
}

MSKIAM_INLINE void deliver(rd_kafka_t* rk, FetchToken fetch, void* provider) noexcept {
  deliver_with(
      fetch, provider,
      [rk](const OAuthBearerToken& t) -> std::string {
        char errstr[512] = {};
        const rd_kafka_resp_err_t err =
            rd_kafka_oauthbearer_set_token(rk, t.value.c_str(), t.md_lifetime_ms,
                                           t.md_principal_name.c_str(), nullptr, 0, errstr,
                                           sizeof errstr);
        mskiam::detail::cleanse(errstr, sizeof errstr);
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string() : rd_kafka_err2name(err);
      },
      [rk](const std::string& text) { rd_kafka_oauthbearer_set_token_failure(rk, text.c_str()); });
}

MSKIAM_INLINE void deliver(RdKafka::Handle* handle, FetchToken fetch, void* provider) noexcept {
  deliver_with(
      fetch, provider,
      [handle](const OAuthBearerToken& t) -> std::string {
        std::string errstr;
        const RdKafka::ErrorCode err = handle->oauthbearer_set_token(
            t.value, t.md_lifetime_ms, t.md_principal_name, {}, errstr);
        mskiam::detail::cleanse(errstr);
        return err == RdKafka::ERR_NO_ERROR ? std::string() : RdKafka::err2str(err);
      },
      [handle](const std::string& text) { handle->oauthbearer_set_token_failure(text); });
}

// The C API has no per-callback opaque (the application's conf opaque stays the application's),
// so the provider of each client is found by its rd_kafka_t*, registered by an on_new
// interceptor. One Binding per attach(), shared by the conf, its copies, the clients made from
// them and any refresh in flight, freed with the last of them.
// Never destroyed: a client still alive at exit() may refresh on librdkafka's background thread
// after static destructors have run.
MSKIAM_INLINE std::mutex& registry_mutex() {
  static auto* m = new std::mutex;
  return *m;
}

MSKIAM_INLINE std::unordered_map<const rd_kafka_t*, std::shared_ptr<const Binding>>& registry() {
  static auto* clients = new std::unordered_map<const rd_kafka_t*, std::shared_ptr<const Binding>>;
  return *clients;
}

MSKIAM_INLINE std::shared_ptr<const Binding> find(const rd_kafka_t* rk) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(rk);
  return it == registry().end() ? nullptr : it->second;
}

MSKIAM_INLINE void c_refresh(rd_kafka_t* rk, const char*, void*) {
  // Holds the binding (and what it keeps alive) through the refresh, even if the client is
  // destroyed meanwhile.
  const std::shared_ptr<const Binding> binding = find(rk);
  if (binding == nullptr) {
    rd_kafka_oauthbearer_set_token_failure(rk, "mskiam: no token provider is attached to this client");
    return;
  }
  deliver(rk, binding->fetch, binding->provider);
}

MSKIAM_INLINE rd_kafka_resp_err_t on_destroy(rd_kafka_t* rk, void*) {
  std::shared_ptr<const Binding> last;  // released outside the lock
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(rk);
  if (it != registry().end()) {
    last = std::move(it->second);
    registry().erase(it);
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

MSKIAM_INLINE rd_kafka_resp_err_t bind_client(rd_kafka_t* rk,
                                              std::shared_ptr<const Binding> binding) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry()[rk] = std::move(binding);
  }
  return rd_kafka_interceptor_add_on_destroy(rk, interceptor_name, &on_destroy, nullptr);
}

// The conf interceptors' opaque: each conf (and copy) owns one reference to the binding.
using ConfBinding = std::shared_ptr<const Binding>;

MSKIAM_INLINE rd_kafka_resp_err_t on_new(rd_kafka_t* rk, const rd_kafka_conf_t*, void* ic_opaque,
                                         char*, size_t) {
  return bind_client(rk, *static_cast<ConfBinding*>(ic_opaque));
}

MSKIAM_INLINE rd_kafka_resp_err_t on_conf_destroy(void* ic_opaque) {
  delete static_cast<ConfBinding*>(ic_opaque);
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

MSKIAM_INLINE rd_kafka_resp_err_t add_interceptors(rd_kafka_conf_t* conf, ConfBinding* binding);

MSKIAM_INLINE rd_kafka_resp_err_t on_conf_dup(rd_kafka_conf_t* new_conf, const rd_kafka_conf_t*,
                                              size_t, const char**, void* ic_opaque) {
  return add_interceptors(new_conf, new ConfBinding(*static_cast<ConfBinding*>(ic_opaque)));
}

// on_new first: it is the only one of the three whose names librdkafka keeps unique, so a
// second attach() to one conf fails there, before anything refers to the new binding. From
// on_conf_destroy's registration on, the conf owns `binding`.
MSKIAM_INLINE rd_kafka_resp_err_t add_interceptors(rd_kafka_conf_t* conf, ConfBinding* binding) {
  rd_kafka_resp_err_t err =
      rd_kafka_conf_interceptor_add_on_new(conf, interceptor_name, &on_new, binding);
  if (err) {
    delete binding;
    return err;
  }
  // librdkafka refuses a registration only for a name already taken, which on_new has ruled
  // out; were it to fail, on_new holds `binding`: leaked rather than left dangling.
  err = rd_kafka_conf_interceptor_add_on_conf_destroy(conf, interceptor_name, &on_conf_destroy,
                                                      binding);
  if (err) return err;
  return rd_kafka_conf_interceptor_add_on_conf_dup(conf, interceptor_name, &on_conf_dup, binding);
}

MSKIAM_INLINE void require_oauthbearer_support() {
  char features[512] = {};
  size_t size = sizeof features;
  rd_kafka_conf_t* probe = rd_kafka_conf_new();
  const bool ok = rd_kafka_conf_get(probe, "builtin.features", features, &size) == RD_KAFKA_CONF_OK &&
                  std::strstr(features, "sasl_oauthbearer") != nullptr;
  rd_kafka_conf_destroy(probe);
  if (!ok)
    throw Error(ErrorKind::not_configured, std::string(adapter_source),
                std::string("this librdkafka (") + rd_kafka_version_str() +
                    ") is built without SASL/OAUTHBEARER (builtin.features: " + features + ")");
}

MSKIAM_INLINE void set_or_throw(rd_kafka_conf_t* conf, const char* name, const char* value) {
  char errstr[512] = {};
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
    throw Error(ErrorKind::invalid_argument, std::string(adapter_source),
                std::string("cannot set ") + name + ": " + errstr);
}

MSKIAM_INLINE void attach(rd_kafka_conf_t* conf, FetchToken fetch, void* provider) {
  require_oauthbearer_support();
  set_or_throw(conf, "sasl.mechanisms", "OAUTHBEARER");
  auto binding = std::make_shared<Binding>();
  binding->fetch = fetch;
  binding->provider = provider;
  const rd_kafka_resp_err_t err = add_interceptors(conf, new ConfBinding(std::move(binding)));
  if (err) {
    if (err == RD_KAFKA_RESP_ERR__CONFLICT) {
      throw Error(ErrorKind::invalid_argument, std::string(adapter_source),
                  "a token provider is already attached to this configuration");
    }
    throw Error(ErrorKind::internal, std::string(adapter_source),
                std::string("cannot register interceptors: ") + rd_kafka_err2str(err));
  }
  rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, &c_refresh);
  rd_kafka_conf_enable_sasl_queue(conf, 1);
}

MSKIAM_INLINE void attach(RdKafka::Conf& conf, RdKafka::OAuthBearerTokenRefreshCb* callback) {
  require_oauthbearer_support();
  std::string errstr;
  if (conf.set("sasl.mechanisms", "OAUTHBEARER", errstr) != RdKafka::Conf::CONF_OK ||
      conf.set("oauthbearer_token_refresh_cb", callback, errstr) != RdKafka::Conf::CONF_OK ||
      conf.enable_sasl_queue(true, errstr) != RdKafka::Conf::CONF_OK)
    throw Error(ErrorKind::invalid_argument, std::string(adapter_source),
                "cannot configure OAUTHBEARER: " + errstr);
}

}  // namespace detail

MSKIAM_INLINE void start(rd_kafka_t* rk) {
  if (rd_kafka_error_t* error = rd_kafka_sasl_background_callbacks_enable(rk)) {
    const std::string text = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    throw Error(ErrorKind::invalid_argument, std::string(adapter_source),
                "cannot enable SASL background callbacks (was attach() called on the "
                "configuration?): " + text);
  }
}

MSKIAM_INLINE void start(RdKafka::Handle& handle) {
  if (RdKafka::Error* error = handle.sasl_background_callbacks_enable()) {
    const std::string text = error->str();
    delete error;
    throw Error(ErrorKind::invalid_argument, std::string(adapter_source),
                "cannot enable SASL background callbacks (was attach() called on the "
                "configuration?): " + text);
  }
}

MSKIAM_INLINE EventHandler librdkafka_log_events(
    Severity max, void (*printer)(const rd_kafka_t*, int, const char*, const char*)) {
  return [max, printer](const Event& e) {
    if (static_cast<int>(severity(e.type)) > static_cast<int>(max)) return;
    detail::print_event(printer, e);
  };
}

namespace detail {
MSKIAM_INLINE void print_event(void (*printer)(const rd_kafka_t*, int, const char*, const char*),
                               const Event& e, std::string_view label) {
  std::string line(label);
  if (!line.empty()) line += ' ';
  line += describe(e);
  printer(nullptr, static_cast<int>(severity(e.type)), "MSKIAM", line.c_str());
}
}  // namespace detail

}  // namespace rdkafka
MSKIAM_END_NAMESPACE
#endif  // MSKIAM_RDKAFKA_DEFINITIONS
