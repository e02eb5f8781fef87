// libmskiam-rdkafka.so: MSK IAM for any librdkafka client by configuration alone.
//
//   plugin.library.paths=libmskiam-rdkafka
//   bootstrap.servers=b-1.msk.xxxx.c2.kafka.us-east-1.amazonaws.com:9098
//   sasl.oauthbearer.config=lifetime=900    (optional: region=us-east-1 when the brokers'
//                                            host names do not carry it)
//
// How it hooks into librdkafka (tested with 2.0.2, 2.8.0, 2.14.2 and the 2.16 of PyPI's
// confluent-kafka wheel):
//
//   conf_init        (when plugin.library.paths is set) binds the plugin to the librdkafka that
//                    called it (host_librdkafka.hpp), checks any sasl.oauthbearer.config set
//                    before it, sets security.protocol=SASL_SSL (when it was plaintext or ssl),
//                    sasl.mechanisms=OAUTHBEARER, the refresh callback and the SASL queue, and
//                    adds the configuration interceptors below.
//   on_conf_set      checks sasl.oauthbearer.config whenever it is set afterwards: a bad value
//                    makes rd_kafka_conf_set fail with a message naming the key. A region
//                    missing there is no error while bootstrap.servers is unset, which may give
//                    it: on_conf_set follows both properties, and refuses the second of them
//                    when together they give no region.
//   missing settings no region (neither region= nor MSK brokers): on librdkafka >= 2.13,
//                    sasl.mechanisms holds a placeholder naming the problem while it is missing,
//                    so that rd_kafka_new fails ("Unsupported SASL mechanism: OAUTHBEARER(mskiam-
//                    plugin:sasl.oauthbearer.config-needs-region=...)"). Older versions cannot
//                    fail rd_kafka_new safely once on_new has run: the application's later
//                    rd_kafka_conf_destroy frees the interceptors a second time (librdkafka issue
//                    #4142, fixed in 2.13.0 by #5240), and no check before on_new can carry a
//                    message. There the client is created, librdkafka logs on_new's error
//                    (ICFAIL, naming the key) and every refresh reports it through error_cb.
//                    (on_new's own error never fails rd_kafka_new: librdkafka logs it only.)
//   on_new           reads the final sasl.oauthbearer.config and binds the client, in the
//                    adapter's client registry (mskiam/rdkafka.hpp), to the provider of its
//                    settings, shared by every client with the same settings and environment
//                    (shared_providers.hpp); does nothing for a client that is not
//                    SASL/OAUTHBEARER.
//   on_thread_start  for librdkafka's main thread: rd_kafka_sasl_background_callbacks_enable.
//                    on_new is too early (no SASL queue, no locks yet); the main thread is the
//                    first point that exists once per client after rd_kafka_sasl_init, and
//                    rd_kafka_new waits for it, so the callbacks are served on the background
//                    thread before rd_kafka_new returns, also in clients that never poll.
//                    (librdkafka's header asks on_thread_start not to call client APIs; this one
//                    call is safe there: it takes the client's lock, which rd_kafka_new holds
//                    only while it creates the main thread, in the same order with the init
//                    lock, and it registers the background thread before the main thread
//                    reports itself started.)
//   on_destroy       (the adapter's) drops the client's share of its provider, which a refresh
//                    in flight holds until it ends; the last client frees the provider.
//
// Only conf_init is exported (version script plugin/exports.map, -fvisibility=hidden). The
// plugin starts no thread; refreshes run on librdkafka's background thread.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "mskiam/events.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/rdkafka.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/environment.hpp"
#include "host_librdkafka.hpp"
#include "settings.hpp"
#include "shared_providers.hpp"

// The STS-based sources (default chain, profiles, AssumeRole) need libcurl; without it
// (MSKIAM_CURL=OFF) the plugin has environment credentials only.
#if !defined(MSKIAM_PLUGIN_ENVIRONMENT_ONLY)
#define MSKIAM_PLUGIN_STS_SOURCES 1
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/default_chain.hpp"
#include "mskiam/sources/profile.hpp"
#include "mskiam/sts.hpp"
#else
#define MSKIAM_PLUGIN_STS_SOURCES 0
#endif

#define MSKIAM_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace mskiam_plugin {
namespace {

constexpr const char* ic_name = "mskiam-rdkafka-plugin";
constexpr const char* mechanism = "OAUTHBEARER";
// What sasl.mechanisms holds while the settings have no region (from region= or the brokers): no
// spaces or commas (librdkafka accepts one word), and it reads well after librdkafka's
// "Unsupported SASL mechanism: ".
constexpr const char* poison_mechanism =
    "OAUTHBEARER(mskiam-plugin:sasl.oauthbearer.config-needs-region=...)";
constexpr std::string_view prefix = "mskiam plugin: ";
// First librdkafka whose rd_kafka_new cleans up after a late failure without breaking the
// application's configuration object (#5240).
constexpr int safe_late_failure_version = 0x020d0000;

// ---------------------------------------------------------------------------------------------
// Building a client's provider from its settings.

mskiam::AnySource make_source(const Settings& s) {
#if MSKIAM_PLUGIN_STS_SOURCES
  mskiam::StsOptions sts;
  sts.region = s.region;  // regional STS next to the cluster, unless sts_endpoint says otherwise
  sts.endpoint = s.sts_endpoint;
  const mskiam::SessionName fixed =
      s.session_name ? mskiam::SessionName::fixed(*s.session_name) : mskiam::SessionName{};
  // The session name belongs to the role that makes the principal: the AssumeRole when
  // role_arn is given, else the base source's own role (web identity, profile role_arn).
  const mskiam::SessionName base_name = s.role_arn.empty() ? fixed : mskiam::SessionName{};
  mskiam::AnySource base = [&]() -> mskiam::AnySource {
    if (!s.profile.empty()) {
      mskiam::ProfileCredentials::Options o;
      o.profile = s.profile;
      o.session_name = base_name;
      o.sts = sts;
      return mskiam::ProfileCredentials(std::move(o));
    }
    mskiam::DefaultChain::Options o;
    o.session_name = base_name;
    o.sts = sts;
    return mskiam::DefaultChain(std::move(o));
  }();
  if (s.role_arn.empty()) return base;
  mskiam::AssumeRole<mskiam::AnySource>::Options o;
  o.role_arn = s.role_arn;
  o.session_name = fixed;
  o.external_id = s.external_id;
  o.sts = sts;
  return mskiam::AssumeRole<mskiam::AnySource>(std::move(base), std::move(o));
#else
  if (!s.role_arn.empty() || !s.profile.empty() || !s.sts_endpoint.empty())
    throw mskiam::Error(mskiam::ErrorKind::not_configured, "plugin",
                        "role_arn, profile and sts_endpoint need the STS sources, which this "
                        "build of the plugin does not have");
  return mskiam::EnvironmentCredentials{};
#endif
}

std::string conf_string(const rd_kafka_conf_t* conf, const char* name) {
  size_t size = 0;
  if (rd_kafka_conf_get(conf, name, nullptr, &size) != RD_KAFKA_CONF_OK || size == 0) return {};
  std::string value(size, '\0');
  if (rd_kafka_conf_get(conf, name, &value[0], &size) != RD_KAFKA_CONF_OK) return {};
  value.resize(std::strlen(value.c_str()));
  return value;
}

// Which provider events a client prints, in librdkafka's log format (facility MSKIAM) on
// stderr, filtered like librdkafka's own logs: principal changes and failures by default,
// everything with debug=security (or all), never beyond log_level.
Audience::Member audience_member(const rd_kafka_conf_t* conf) {
  const std::string debug = conf_string(conf, "debug");
  const bool verbose = debug.find("security") != std::string::npos ||
                       debug.find("all") != std::string::npos;
  int max = static_cast<int>(verbose ? mskiam::Severity::debug : mskiam::Severity::notice);
  const std::string log_level = conf_string(conf, "log_level");
  if (!log_level.empty() && log_level.size() == 1 && log_level[0] >= '0' && log_level[0] <= '7')
    max = std::min(max, log_level[0] - '0');
  return {conf_string(conf, "client.id"), max};
}

std::unique_ptr<Provider> make_provider(const Settings& s, std::shared_ptr<Audience> audience) {
  mskiam::TokenOptions options;
  options.region = s.region;
  options.lifetime = s.lifetime;
  options.host = s.host;
  mskiam::ProviderOptions provider_options;
  provider_options.principal_change = s.principal_change;
  provider_options.on_event = [audience](const mskiam::Event& e) {
    const std::string ids = audience->wanting(static_cast<int>(mskiam::severity(e.type)));
    if (ids.empty()) return;
    mskiam::rdkafka::detail::print_event(&rd_kafka_log_print, e, "client.id=" + ids);
  };
  return std::make_unique<Provider>(make_source(s), std::move(options),
                                    std::move(provider_options));
}

mskiam::rdkafka::OAuthBearerToken fetch_shared(void* share) {
  return mskiam::rdkafka::detail::fetch_token(static_cast<ProviderShare*>(share)->provider());
}

[[noreturn]] mskiam::rdkafka::OAuthBearerToken fetch_failure(void* why) {
  throw std::runtime_error("plugin: " + *static_cast<const std::string*>(why));
}

// The client's binding: its share of the provider of its settings, or, when there is none
// (bad settings, a source that cannot be built), the reason, reported at every refresh.
using Binding = mskiam::rdkafka::detail::Binding;
std::shared_ptr<const Binding> make_binding(const rd_kafka_conf_t* conf, std::string& error) {
  auto binding = std::make_shared<Binding>();
  try {
    const std::string text = conf_string(conf, std::string(config_property).c_str());
    const Settings s = parse_settings(text, conf_string(conf, std::string(bootstrap_property).c_str()));
    auto make = [&s](std::shared_ptr<Audience> a) { return make_provider(s, std::move(a)); };
    // The region may come from the brokers: clients of other clusters share no provider.
    const std::string key = sharing_key(text + "\nregion=" + s.region);
    auto share = std::make_shared<ProviderShare>(shared_provider(key, make), audience_member(conf));
    binding->fetch = &fetch_shared;
    binding->provider = share.get();
    binding->keep = std::move(share);
    return binding;
  } catch (const std::exception& e) {
    error = e.what();
  }
  auto why = std::make_shared<const std::string>(error);
  binding->fetch = &fetch_failure;
  binding->provider = const_cast<std::string*>(why.get());
  binding->keep = std::move(why);
  return binding;
}

// ---------------------------------------------------------------------------------------------
// Client interceptors.

rd_kafka_resp_err_t on_thread_start(rd_kafka_t* rk, rd_kafka_thread_type_t type, const char*,
                                    void*) {
  if (type != RD_KAFKA_THREAD_MAIN) return RD_KAFKA_RESP_ERR_NO_ERROR;
  // Creates the background thread if the application has none and forwards the SASL queue
  // to it, with the refresh that rd_kafka_sasl_init has already queued.
  try {
    mskiam::rdkafka::start(rk);
  } catch (const std::exception& e) {
    const std::string line = std::string(prefix) + e.what() +
                             "; token refreshes run when the application polls";
    rd_kafka_log_print(nullptr, static_cast<int>(mskiam::Severity::warning), "MSKIAM",
                       line.c_str());
    return RD_KAFKA_RESP_ERR__FAIL;
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t on_new(rd_kafka_t* rk, const rd_kafka_conf_t* conf, void*, char* errstr,
                           size_t errstr_size) {
  const std::string mechanisms = conf_string(conf, "sasl.mechanisms");
  const std::string protocol = conf_string(conf, "security.protocol");
  if ((mechanisms != mechanism && mechanisms != poison_mechanism) ||
      protocol.compare(0, 5, "sasl_") != 0)
    return RD_KAFKA_RESP_ERR_NO_ERROR;  // not an OAUTHBEARER client: nothing to do
  std::string error;
  auto binding = make_binding(conf, error);
  if (mechanisms == poison_mechanism) {
    // rd_kafka_new fails right after this (librdkafka >= 2.13): add nothing to the client,
    // whose interceptor lists librdkafka does not free on that path.
    std::snprintf(errstr, errstr_size, "%.*s%s", static_cast<int>(prefix.size()), prefix.data(),
                  error.c_str());
    return RD_KAFKA_RESP_ERR__INVALID_ARG;
  }
  rd_kafka_resp_err_t err = mskiam::rdkafka::detail::bind_client(rk, std::move(binding));
  if (!err) err = rd_kafka_interceptor_add_on_thread_start(rk, ic_name, &on_thread_start, nullptr);
  if (err) {
    std::snprintf(errstr, errstr_size, "%.*scannot add client interceptors: %s",
                  static_cast<int>(prefix.size()), prefix.data(), rd_kafka_err2str(err));
    return err;
  }
  if (!error.empty()) {
    // Logged by librdkafka; every refresh reports it again through error_cb.
    std::snprintf(errstr, errstr_size, "%.*s%s", static_cast<int>(prefix.size()), prefix.data(),
                  error.c_str());
    return RD_KAFKA_RESP_ERR__INVALID_ARG;
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

// ---------------------------------------------------------------------------------------------
// Configuration interceptors: one ConfState per rd_kafka_conf_t that loaded the plugin.

struct ConfState {
  std::string wanted_mechanism = mechanism;  // what the application asked for, or our default
  bool settings_ok = false;                  // sasl.oauthbearer.config is valid
};

thread_local bool setting_internally = false;  // our own rd_kafka_conf_set calls

rd_kafka_conf_res_t set_internally(rd_kafka_conf_t* conf, const char* name, const char* value) {
  const bool was = setting_internally;
  setting_internally = true;
  char ignored[256];
  const rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name, value, ignored, sizeof ignored);
  setting_internally = was;
  return res;
}

bool can_fail_new() { return rd_kafka_version() >= safe_late_failure_version; }

// sasl.mechanisms: the application's choice, except the placeholder while it is OAUTHBEARER,
// the settings are not valid, and this librdkafka can fail rd_kafka_new safely.
void apply_mechanism(rd_kafka_conf_t* conf, const ConfState& state) {
  if (!can_fail_new()) return;
  const bool ours = state.wanted_mechanism == mechanism;
  set_internally(conf, "sasl.mechanisms",
                 ours && !state.settings_ok ? poison_mechanism : state.wanted_mechanism.c_str());
}

// Checks what is known at configuration: every key, and, once both properties are set, the
// region (theirs or the brokers'). Throws SettingsError.
void check_known(const std::string& text, const std::string& bootstrap) {
  if (mskiam::detail::trim(bootstrap).empty())
    parse_keys(text);
  else if (!text.empty())
    parse_settings(text, bootstrap);
}

// Whether the settings are complete: every key valid and a region, theirs or the brokers'.
bool settings_complete(const std::string& text, const std::string& bootstrap) {
  try {
    parse_settings(text, bootstrap);
    return true;
  } catch (const SettingsError&) {
    return false;
  }
}

void write_error(char* errstr, size_t errstr_size, const std::string& text) {
  if (errstr && errstr_size) std::snprintf(errstr, errstr_size, "%s", text.c_str());
}

rd_kafka_conf_res_t on_conf_set(rd_kafka_conf_t* conf, const char* name, const char* value,
                                char* errstr, size_t errstr_size, void* ic_opaque) {
  if (setting_internally) return RD_KAFKA_CONF_UNKNOWN;
  auto* state = static_cast<ConfState*>(ic_opaque);
  const std::string_view key(name);
  const bool settings = key == config_property;
  if (settings || key == bootstrap_property || key == "metadata.broker.list") {  // and its alias
    if (settings && (!value || !*value)) {  // reset: rd_kafka_new fails until it is set again
      state->settings_ok = false;
      apply_mechanism(conf, *state);
      return RD_KAFKA_CONF_UNKNOWN;
    }
    // The value being set, and the other property as it stands.
    const std::string given = value ? value : "";
    const std::string text = settings ? given : conf_string(conf, std::string(config_property).c_str());
    const std::string bootstrap =
        settings ? conf_string(conf, std::string(bootstrap_property).c_str()) : given;
    try {
      check_known(text, bootstrap);
    } catch (const SettingsError& e) {
      write_error(errstr, errstr_size, std::string(prefix) + e.what());
      return RD_KAFKA_CONF_INVALID;  // not stored: the previous value stays
    }
    state->settings_ok = settings_complete(text, bootstrap);
    apply_mechanism(conf, *state);
    return RD_KAFKA_CONF_UNKNOWN;  // librdkafka stores it
  }
  if ((key == "sasl.mechanisms" || key == "sasl.mechanism") && can_fail_new()) {
    if (value && std::strcmp(value, poison_mechanism) == 0) return RD_KAFKA_CONF_UNKNOWN;  // a copy
    state->wanted_mechanism = value ? value : "GSSAPI";  // librdkafka's default
    if (state->wanted_mechanism.find_first_of(" ,") != std::string::npos)
      return RD_KAFKA_CONF_UNKNOWN;  // let librdkafka refuse it with its own message
    apply_mechanism(conf, *state);
    return RD_KAFKA_CONF_OK;  // stored by apply_mechanism
  }
  return RD_KAFKA_CONF_UNKNOWN;
}

ConfState* setup(rd_kafka_conf_t* conf, std::unique_ptr<ConfState> state,
                 rd_kafka_resp_err_t& err);

rd_kafka_resp_err_t on_conf_dup(rd_kafka_conf_t* new_conf, const rd_kafka_conf_t*, size_t,
                                const char**, void* ic_opaque) {
  // The copy's properties (sasl.mechanisms, sasl.oauthbearer.config) follow through
  // on_conf_set; the copy starts from this configuration's state.
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  setup(new_conf, std::make_unique<ConfState>(*static_cast<ConfState*>(ic_opaque)), err);
  return err;
}

rd_kafka_resp_err_t on_conf_destroy(void* ic_opaque) {
  delete static_cast<ConfState*>(ic_opaque);
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

// Adds the configuration interceptors and returns the state the configuration now owns
// (on_conf_destroy frees it), or null. A configuration that already has them (a copy set up by
// on_conf_dup, whose plugin.library.paths then loads the plugin again; or the property set
// twice) keeps its first state: null, with no error.
ConfState* setup(rd_kafka_conf_t* conf, std::unique_ptr<ConfState> state,
                 rd_kafka_resp_err_t& err) {
  err = rd_kafka_conf_interceptor_add_on_new(conf, ic_name, &on_new, nullptr);
  if (err == RD_KAFKA_RESP_ERR__CONFLICT) err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (err || !state) return nullptr;
  ConfState* owned = state.release();
  err = rd_kafka_conf_interceptor_add_on_conf_destroy(conf, ic_name, &on_conf_destroy, owned);
  if (err) {
    delete owned;
    return nullptr;
  }
  err = rd_kafka_conf_interceptor_add_on_conf_set(conf, ic_name, &on_conf_set, owned);
  if (!err) err = rd_kafka_conf_interceptor_add_on_conf_dup(conf, ic_name, &on_conf_dup, owned);
  if (err) return nullptr;
  rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, &mskiam::rdkafka::detail::c_refresh);
  rd_kafka_conf_enable_sasl_queue(conf, 1);
  return owned;
}

rd_kafka_resp_err_t conf_init_impl(rd_kafka_conf_t* conf, const void* caller, char* errstr,
                                   size_t errstr_size) {
  const std::string unbound = bind_host(caller);
  if (!unbound.empty()) {
    write_error(errstr, errstr_size, std::string(prefix) + unbound);
    return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
  }
  try {
    mskiam::rdkafka::detail::require_oauthbearer_support();
  } catch (const mskiam::Error& e) {
    write_error(errstr, errstr_size, std::string(prefix) + e.what());
    return RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED;
  }
  // Settings given before plugin.library.paths are checked here; later ones by on_conf_set.
  // Nothing is registered before this check: librdkafka unloads a plugin whose conf_init fails.
  auto state = std::make_unique<ConfState>();
  const std::string current = conf_string(conf, std::string(config_property).c_str());
  const std::string bootstrap = conf_string(conf, std::string(bootstrap_property).c_str());
  try {
    check_known(current, bootstrap);
  } catch (const SettingsError& e) {
    write_error(errstr, errstr_size, std::string(prefix) + e.what());
    return RD_KAFKA_RESP_ERR__INVALID_ARG;
  }
  state->settings_ok = settings_complete(current, bootstrap);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  ConfState* owned = setup(conf, std::move(state), err);
  if (err) {
    write_error(errstr, errstr_size,
                std::string(prefix) + "cannot add interceptors: " + rd_kafka_err2str(err));
    return err;
  }
  if (!owned) return RD_KAFKA_RESP_ERR_NO_ERROR;  // already set up for this configuration
  // MSK IAM listens with SASL_SSL (port 9098): the plugin's default, unless the application
  // chose SASL_PLAINTEXT (before or after loading the plugin).
  const std::string protocol = conf_string(conf, "security.protocol");
  if (protocol == "plaintext" || protocol == "ssl") set_internally(conf, "security.protocol", "sasl_ssl");
  set_internally(conf, "sasl.mechanisms", mechanism);
  apply_mechanism(conf, *owned);
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

}  // namespace
}  // namespace mskiam_plugin

// librdkafka's plugin entry point, called when plugin.library.paths names this library.
MSKIAM_PLUGIN_EXPORT rd_kafka_resp_err_t conf_init(rd_kafka_conf_t* conf, void** plug_opaquep,
                                                   char* errstr, size_t errstr_size) {
  if (plug_opaquep) *plug_opaquep = nullptr;
  try {
    // The return address is in the librdkafka that loaded the plugin: its functions are the
    // ones the plugin calls (host_librdkafka.hpp).
    return mskiam_plugin::conf_init_impl(conf, __builtin_return_address(0), errstr, errstr_size);
  } catch (const std::exception& e) {
    mskiam_plugin::write_error(errstr, errstr_size, std::string(mskiam_plugin::prefix) + e.what());
  } catch (...) {
    mskiam_plugin::write_error(errstr, errstr_size, "mskiam plugin: conf_init failed");
  }
  return RD_KAFKA_RESP_ERR__FAIL;
}
