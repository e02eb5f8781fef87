// The librdkafka that loaded the plugin (host_librdkafka.hpp): its functions, resolved once by
// bind_host(), and the plugin's own hidden definitions of the rd_kafka_* functions it calls,
// each forwarding to the host's. The version script (exports.map) keeps them out of the
// plugin's dynamic symbol table, so they never stand in for any other library's.
#include "host_librdkafka.hpp"

#include <dlfcn.h>
#include <librdkafka/rdkafka.h>

#include <mutex>
#include <string>
#include <vector>

// Every librdkafka function the plugin and the adapter code it uses call, with its parameters
// and the arguments that forward them. A call to one missing here fails the plugin's link
// (--no-undefined), and a definition whose parameters differ from rdkafka.h's fails to compile.
#define MSKIAM_HOST_FUNCTIONS(X)                                                                   \
  X(rd_kafka_version, (void), ())                                                                  \
  X(rd_kafka_version_str, (void), ())                                                              \
  X(rd_kafka_err2str, (rd_kafka_resp_err_t err), (err))                                            \
  X(rd_kafka_err2name, (rd_kafka_resp_err_t err), (err))                                           \
  X(rd_kafka_log_print, (const rd_kafka_t* rk, int level, const char* fac, const char* buf),       \
    (rk, level, fac, buf))                                                                         \
  X(rd_kafka_conf_new, (void), ())                                                                 \
  X(rd_kafka_conf_destroy, (rd_kafka_conf_t * conf), (conf))                                       \
  X(rd_kafka_conf_get,                                                                             \
    (const rd_kafka_conf_t* conf, const char* name, char* dest, size_t* dest_size),                \
    (conf, name, dest, dest_size))                                                                 \
  X(rd_kafka_conf_set,                                                                             \
    (rd_kafka_conf_t * conf, const char* name, const char* value, char* errstr,                    \
     size_t errstr_size),                                                                          \
    (conf, name, value, errstr, errstr_size))                                                      \
  X(rd_kafka_conf_set_oauthbearer_token_refresh_cb,                                                \
    (rd_kafka_conf_t * conf, void (*cb)(rd_kafka_t*, const char*, void*)), (conf, cb))             \
  X(rd_kafka_conf_enable_sasl_queue, (rd_kafka_conf_t * conf, int enable), (conf, enable))         \
  X(rd_kafka_conf_interceptor_add_on_new,                                                          \
    (rd_kafka_conf_t * conf, const char* ic_name, rd_kafka_interceptor_f_on_new_t* f,              \
     void* ic_opaque),                                                                             \
    (conf, ic_name, f, ic_opaque))                                                                 \
  X(rd_kafka_conf_interceptor_add_on_conf_set,                                                     \
    (rd_kafka_conf_t * conf, const char* ic_name, rd_kafka_interceptor_f_on_conf_set_t* f,         \
     void* ic_opaque),                                                                             \
    (conf, ic_name, f, ic_opaque))                                                                 \
  X(rd_kafka_conf_interceptor_add_on_conf_dup,                                                     \
    (rd_kafka_conf_t * conf, const char* ic_name, rd_kafka_interceptor_f_on_conf_dup_t* f,         \
     void* ic_opaque),                                                                             \
    (conf, ic_name, f, ic_opaque))                                                                 \
  X(rd_kafka_conf_interceptor_add_on_conf_destroy,                                                 \
    (rd_kafka_conf_t * conf, const char* ic_name, rd_kafka_interceptor_f_on_conf_destroy_t* f,     \
     void* ic_opaque),                                                                             \
    (conf, ic_name, f, ic_opaque))                                                                 \
  X(rd_kafka_interceptor_add_on_destroy,                                                           \
    (rd_kafka_t * rk, const char* ic_name, rd_kafka_interceptor_f_on_destroy_t* f,                 \
     void* ic_opaque),                                                                             \
    (rk, ic_name, f, ic_opaque))                                                                   \
  X(rd_kafka_interceptor_add_on_thread_start,                                                      \
    (rd_kafka_t * rk, const char* ic_name, rd_kafka_interceptor_f_on_thread_start_t* f,            \
     void* ic_opaque),                                                                             \
    (rk, ic_name, f, ic_opaque))                                                                   \
  X(rd_kafka_oauthbearer_set_token,                                                                \
    (rd_kafka_t * rk, const char* token_value, int64_t md_lifetime_ms,                             \
     const char* md_principal_name, const char** extensions, size_t extension_size, char* errstr,  \
     size_t errstr_size),                                                                          \
    (rk, token_value, md_lifetime_ms, md_principal_name, extensions, extension_size, errstr,       \
     errstr_size))                                                                                 \
  X(rd_kafka_oauthbearer_set_token_failure, (rd_kafka_t * rk, const char* errstr), (rk, errstr))   \
  X(rd_kafka_sasl_background_callbacks_enable, (rd_kafka_t * rk), (rk))                            \
  X(rd_kafka_error_code, (const rd_kafka_error_t* error), (error))                                 \
  X(rd_kafka_error_string, (const rd_kafka_error_t* error), (error))                               \
  X(rd_kafka_error_destroy, (rd_kafka_error_t * error), (error))

namespace mskiam_plugin {
namespace {

struct Functions {
#define MSKIAM_HOST_POINTER(name, params, args) decltype(&::name) name = nullptr;
  MSKIAM_HOST_FUNCTIONS(MSKIAM_HOST_POINTER)
#undef MSKIAM_HOST_POINTER
};

// Written once, under host_mutex, before conf_init returns to the first librdkafka that loads
// the plugin; read without a lock afterwards: every later call comes through that library.
Functions host;
const void* host_base = nullptr;  // load address of the library bound
std::string host_path;

std::mutex& host_mutex() {
  static auto* m = new std::mutex;  // never destroyed: clients may outlive static destructors
  return *m;
}

const char* path_of(const Dl_info& where) {
  return where.dli_fname && *where.dli_fname ? where.dli_fname : "the program";
}

// The symbol `name` of the object loaded at `base`, or null: found through `handle`, and
// refused when it is another object's (the system's librdkafka.so.1 in the global scope).
void* symbol_in(void* handle, const void* base, const char* name) {
  void* symbol = handle ? dlsym(handle, name) : nullptr;
  Dl_info where{};
  if (!symbol || !dladdr(symbol, &where) || where.dli_fbase != base) return nullptr;
  return symbol;
}

}  // namespace

std::string bind_host(const void* caller) {
  Dl_info where{};
  if (!dladdr(caller, &where) || !where.dli_fbase)
    return "cannot find which library called conf_init (dladdr found none)";
  std::lock_guard<std::mutex> lock(host_mutex());
  if (host_base == where.dli_fbase) return {};
  if (host_base)
    return std::string("this process runs the plugin on the librdkafka of ") + host_path +
           " already; a second librdkafka (" + path_of(where) + ") cannot share it";
  // The library by the path it was loaded from (RTLD_NOLOAD: never a second copy), or the
  // program itself when librdkafka is linked into it.
  void* handle = where.dli_fname ? dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD) : nullptr;
  if (!handle) handle = dlopen(nullptr, RTLD_LAZY);
  Functions found;
  std::vector<const char*> missing;
  std::size_t total = 0;
#define MSKIAM_HOST_RESOLVE(name, params, args)                                              \
  ++total;                                                                                   \
  if (void* symbol = symbol_in(handle, where.dli_fbase, #name))                              \
    found.name = reinterpret_cast<decltype(found.name)>(symbol);                             \
  else                                                                                       \
    missing.push_back(#name);
  MSKIAM_HOST_FUNCTIONS(MSKIAM_HOST_RESOLVE)
#undef MSKIAM_HOST_RESOLVE
  // The cause within the 128 bytes of errstr confluent-kafka-go gives, the program after it.
  if (missing.size() == total)
    return std::string("librdkafka is linked in statically, its symbols hidden (as in "
                       "confluent-kafka-go): use a shared librdkafka (program: ") +
           path_of(where) + ")";
  if (!missing.empty()) {
    std::string names;
    for (const char* name : missing) names += (names.empty() ? "" : ", ") + std::string(name);
    return std::string("the librdkafka that loaded the plugin, in ") + path_of(where) +
           ", lacks " + names + " (librdkafka 1.9 and later have them)";
  }
  host = found;
  host_base = where.dli_fbase;
  host_path = path_of(where);
  return {};
}

}  // namespace mskiam_plugin

// The forwarding definitions, hidden in the plugin (-fvisibility=hidden, exports.map).
extern "C" {
#define MSKIAM_HOST_FORWARD(name, params, args)                \
  auto name params->decltype(mskiam_plugin::host.name args) { \
    return mskiam_plugin::host.name args;                     \
  }
MSKIAM_HOST_FUNCTIONS(MSKIAM_HOST_FORWARD)
#undef MSKIAM_HOST_FORWARD
}
