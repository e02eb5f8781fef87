// The librdkafka that loaded the plugin: the plugin calls its functions, and no other.
//
// A process may hold more than one librdkafka: Python's confluent-kafka from PyPI loads the
// copy bundled in its wheel (confluent_kafka.libs/librdkafka-<hash>.so.1) privately
// (RTLD_LOCAL), next to or instead of the system's librdkafka.so.1. A plugin linked with
// librdkafka.so.1 would then drive a second library with the first one's objects. So the
// plugin links no librdkafka: host_librdkafka.cpp defines, hidden inside the plugin, every
// rd_kafka_* function the plugin and the adapter call, each forwarding to the function of
// that name in the library whose code called conf_init, resolved there by bind_host().
//
// Plugin-private: only plugin/ uses it.
#pragma once

#include <string>

namespace mskiam_plugin {

// Resolves the functions in the library containing `caller` (an address of librdkafka's
// code: conf_init's return address). Returns an empty string on success, else why not, for
// conf_init's errstr: the caller exports no rd_kafka_* functions (a librdkafka linked into
// the program statically, as confluent-kafka-go's bundled one), lacks one, or another
// librdkafka in this process has bound the plugin already. Thread-safe; once bound, later
// calls from the same library succeed at once.
std::string bind_host(const void* caller);

}  // namespace mskiam_plugin
