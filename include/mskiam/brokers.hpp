// The region an MSK bootstrap list names: every MSK broker host name ends in the cluster's region,
//
//   b-1.orders.abc123.c3.kafka.us-east-1.amazonaws.com:9098          provisioned (private, IAM)
//   b-1-public.orders.abc123.c3.kafka.us-east-1.amazonaws.com:9198   provisioned, public access
//   boot-abc123.c1.kafka-serverless.us-east-1.amazonaws.com:9098     Serverless
//   b-1.orders.abc123.c3.kafka.cn-north-1.amazonaws.com.cn:9098      China
//
// so the region is read from the DNS suffix (`.kafka.<region>.amazonaws.com[.cn]`,
// `.kafka-serverless.<region>.amazonaws.com[.cn]`), never found by a search in the host: a cluster
// named `us-west-2-orders` in eu-west-1 is in eu-west-1. Used by the librdkafka plugin (region
// from bootstrap.servers) and mskiam-token (--bootstrap); region ids are checked by
// mskiam/validation.hpp's rule.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE

// MSK's IAM listener ports.
inline constexpr std::uint16_t msk_iam_port_private = 9098;
inline constexpr std::uint16_t msk_iam_port_public = 9198;
inline constexpr std::uint16_t msk_iam_port_ipv6 = 20098;

constexpr bool is_msk_iam_port(std::uint16_t port) noexcept {
  return port == msk_iam_port_private || port == msk_iam_port_public || port == msk_iam_port_ipv6;
}

// One entry of a bootstrap list: `host[:port]`, `[ipv6]:port`, optionally `scheme://` before it
// (librdkafka's form). `text` is the entry as written, trimmed, for messages.
struct BootstrapBroker {
  std::string text;
  std::string host;  // lower case, without brackets
  std::optional<std::uint16_t> port;
};

// Splits a comma-separated bootstrap list; white space around entries and empty entries are
// ignored. Throws Error(invalid_argument) naming `source` for a list without any broker or a
// malformed port.
std::vector<BootstrapBroker> parse_bootstrap(std::string_view list, std::string_view source);

// The region of an MSK broker host name, from its DNS suffix; nullopt for any other host.
std::optional<std::string> msk_broker_region(std::string_view host);

// The one region of every broker of the list. Throws Error(invalid_argument) naming `source`
// when the list is empty, when a host is not an MSK broker (naming it), or when the brokers are
// in more than one region (naming two of them).
std::string region_from_bootstrap(std::string_view list, std::string_view source);

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include "mskiam/detail/text.hpp"
#include "mskiam/validation.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::string_view msk_suffix = ".amazonaws.com";
inline constexpr std::string_view msk_china_suffix = ".amazonaws.com.cn";
inline constexpr std::string_view msk_china_region_prefix = "cn-";
inline constexpr std::string_view msk_service_labels[] = {"kafka", "kafka-serverless"};
inline constexpr std::size_t max_bootstrap_shown = 256;

[[noreturn]] MSKIAM_INLINE void bad_bootstrap(std::string_view source, const std::string& why) {
  throw Error(ErrorKind::invalid_argument, std::string(source), why);
}

MSKIAM_INLINE BootstrapBroker parse_broker(std::string_view entry, std::string_view source) {
  BootstrapBroker b{std::string(entry), {}, std::nullopt};
  const std::string quoted = "broker \"" + printable(entry, max_bootstrap_shown) + "\"";
  if (const auto scheme = entry.find("://"); scheme != std::string_view::npos)
    entry.remove_prefix(scheme + 3);
  std::string_view host = entry, port;
  bool has_port = false;
  if (starts_with(entry, "[")) {  // [ipv6]:port
    const auto close = entry.find(']');
    if (close == std::string_view::npos) bad_bootstrap(source, quoted + " has no closing ']'");
    host = entry.substr(1, close - 1);
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      bad_bootstrap(source, quoted + " has text after ']' that is not :port");
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else if (const auto colon = entry.rfind(':'); colon != std::string_view::npos) {
    host = entry.substr(0, colon);
    port = entry.substr(colon + 1);
    has_port = true;
    if (host.find(':') != std::string_view::npos)
      bad_bootstrap(source, quoted + ": an IPv6 address goes in brackets, [address]:port");
  }
  if (host.empty()) bad_bootstrap(source, quoted + " has no host");
  b.host = ascii_lower(host);
  if (has_port) {
    const auto n = parse_decimal(port, 5);
    if (!n || *n < 1 || *n > 65535)
      bad_bootstrap(source, quoted + " has port \"" + printable(port, 16) +
                                "\", not a number from 1 to 65535");
    b.port = static_cast<std::uint16_t>(*n);
  }
  return b;
}

}  // namespace detail

MSKIAM_INLINE std::vector<BootstrapBroker> parse_bootstrap(std::string_view list,
                                                           std::string_view source) {
  std::vector<BootstrapBroker> brokers;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    const std::string_view entry = detail::trim(list.substr(at, comma - at));
    if (!entry.empty()) brokers.push_back(detail::parse_broker(entry, source));
    at = comma + 1;
  }
  if (brokers.empty())
    detail::bad_bootstrap(source, "the bootstrap list \"" +
                                      detail::printable(list, detail::max_bootstrap_shown) +
                                      "\" names no broker");
  return brokers;
}

MSKIAM_INLINE std::optional<std::string> msk_broker_region(std::string_view host) {
  const std::string lower = detail::ascii_lower(host);
  std::string_view name = lower;
  const bool china = detail::ends_with(name, detail::msk_china_suffix);
  if (china)
    name.remove_suffix(detail::msk_china_suffix.size());
  else if (detail::ends_with(name, detail::msk_suffix))
    name.remove_suffix(detail::msk_suffix.size());
  else
    return std::nullopt;
  // <cluster labels>.<kafka|kafka-serverless>.<region>
  const std::size_t region_dot = name.rfind('.');
  if (region_dot == std::string_view::npos) return std::nullopt;
  const std::string_view region = name.substr(region_dot + 1);
  const std::string_view before = name.substr(0, region_dot);
  const std::size_t service_dot = before.rfind('.');
  if (service_dot == std::string_view::npos || service_dot == 0) return std::nullopt;
  const std::string_view service = before.substr(service_dot + 1);
  bool known_service = false;
  for (std::string_view s : detail::msk_service_labels) known_service = known_service || s == service;
  if (!known_service || !detail::is_region_id(region) ||
      detail::starts_with(region, detail::msk_china_region_prefix) != china)
    return std::nullopt;
  return std::string(region);
}

MSKIAM_INLINE std::string region_from_bootstrap(std::string_view list, std::string_view source) {
  std::string region;
  std::string first;  // the broker that gave `region`
  for (const BootstrapBroker& b : parse_bootstrap(list, source)) {
    const auto found = msk_broker_region(b.host);
    if (!found)
      detail::bad_bootstrap(
          source, "broker \"" + detail::printable(b.text, detail::max_bootstrap_shown) +
                      "\" is not an MSK broker host name (...kafka.<region>.amazonaws.com or "
                      "...kafka-serverless.<region>.amazonaws.com, .amazonaws.com.cn in China), "
                      "so it names no region: set the region explicitly");
    if (region.empty()) {
      region = *found;
      first = b.text;
    } else if (*found != region) {
      detail::bad_bootstrap(
          source, "the brokers are in more than one region: \"" +
                      detail::printable(first, detail::max_bootstrap_shown) + "\" is in " + region +
                      ", \"" + detail::printable(b.text, detail::max_bootstrap_shown) + "\" in " +
                      *found + "; a client talks to one cluster, in one region");
    }
  }
  return region;
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
