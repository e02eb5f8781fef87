// A provider's metrics in the Prometheus text exposition format (version 0.0.4: what a scrape
// and node_exporter's textfile collector read), with labels the application chooses. The
// alert rules of docs/alerts.md are written against these names.
//
//   std::string text;
//   mskiam::write_prometheus(text, provider, {{"client", "orders-api"}});
//
// No secret is written: counts, times, the principal ARN and the source's name.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mskiam/provider.hpp"

MSKIAM_BEGIN_NAMESPACE

// Label names and values added to every sample of one provider: {{"client", "orders-api"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// One provider as write_prometheus shows it.
struct PrometheusEntry {
  ProviderMetrics metrics;
  MetricLabels labels;
  std::optional<std::chrono::seconds> token_lifetime;  // TokenOptions::lifetime, when known
  std::optional<double> clock_offset_seconds;           // this clock minus STS's, when measured
};

// Appends to `out` the metrics of every entry at `now`: each family once, with its HELP and TYPE,
// one sample per entry that has a value. Label values are escaped as the format requires.
// Throws mskiam::Error (source `prometheus`, invalid_argument) for a label name the format
// refuses, a name given twice, or `principal` / `source`, which mskiam_provider_info uses.
void write_prometheus(std::string& out, const std::vector<PrometheusEntry>& entries,
                      std::chrono::system_clock::time_point now);

// `{name="value",...}`, values escaped as the format requires, for an exporter that writes
// families of its own next to write_prometheus's; nothing for no labels. Throws as
// write_prometheus does for a name the format refuses or a name given twice.
std::string prometheus_labels(const MetricLabels& labels);

// A provider's entry: its metrics, the labels, its token lifetime.
template <class Source, class Clock>
PrometheusEntry prometheus_entry(const TokenProvider<Source, Clock>& provider,
                                 MetricLabels labels = {}) {
  PrometheusEntry entry;
  entry.metrics = provider.metrics();
  entry.labels = std::move(labels);
  entry.token_lifetime = provider.options().lifetime;
  return entry;
}

// One provider, at the time of its own clock.
template <class Source, class Clock>
void write_prometheus(std::string& out, TokenProvider<Source, Clock>& provider,
                      MetricLabels labels = {}) {
  write_prometheus(out, {prometheus_entry(provider, std::move(labels))}, provider.clock().now());
}

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <cstdio>
#include <string_view>

MSKIAM_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::string_view prometheus_source = "prometheus";

// A sample's value, formatted, or nothing when the entry has none (no sample is written).
using PrometheusValue = std::optional<std::string>;

struct PrometheusFamily {
  std::string_view name, type, help;
  PrometheusValue (*value)(const PrometheusEntry&, std::chrono::system_clock::time_point now);
  bool info = false;  // also labelled with the principal and the source
};

MSKIAM_INLINE std::string prometheus_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return buf;
}

MSKIAM_INLINE PrometheusValue seconds_between(
    std::optional<std::chrono::system_clock::time_point> from,
    std::optional<std::chrono::system_clock::time_point> to) {
  if (!from || !to) return std::nullopt;
  return prometheus_number(std::chrono::duration<double>(*to - *from).count());
}

// [a-zA-Z_][a-zA-Z0-9_]*, and not `__...`, which Prometheus keeps for itself.
MSKIAM_INLINE bool valid_label_name(std::string_view name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// `info_names`: also refuse the names mskiam_provider_info adds.
MSKIAM_INLINE void check_labels(const MetricLabels& labels, bool info_names) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& name = labels[i].first;
    std::string problem;
    if (!valid_label_name(name))
      problem = "is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)";
    else if (info_names && (name == "principal" || name == "source"))
      problem = "is reserved: mskiam_provider_info has a label of that name";
    for (std::size_t j = 0; j < i && problem.empty(); ++j)
      if (labels[j].first == name) problem = "is given twice";
    if (!problem.empty())
      throw Error(ErrorKind::invalid_argument, std::string(prometheus_source),
                  "label \"" + name + "\" " + problem);
  }
}

// Backslash, double quote and line feed are the three characters a label value escapes.
MSKIAM_INLINE void append_labels(std::string& out, const MetricLabels& labels) {
  if (labels.empty()) return;
  out += '{';
  for (const auto& [name, value] : labels) {
    if (out.back() != '{') out += ',';
    out.append(name).append("=\"");
    for (char c : value) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '"')
        out += "\\\"";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    out += '"';
  }
  out += '}';
}

MSKIAM_INLINE void append_sample(std::string& out, const PrometheusFamily& family,
                                 const PrometheusEntry& entry, const std::string& value) {
  out.append(family.name);
  if (family.info) {
    MetricLabels labels = entry.labels;
    labels.emplace_back("principal", entry.metrics.principal);
    labels.emplace_back("source", entry.metrics.source);
    append_labels(out, labels);
  } else {
    append_labels(out, entry.labels);
  }
  out.append(" ").append(value).append("\n");
}

}  // namespace detail

MSKIAM_INLINE std::string prometheus_labels(const MetricLabels& labels) {
  detail::check_labels(labels, false);
  std::string out;
  detail::append_labels(out, labels);
  return out;
}

MSKIAM_INLINE void write_prometheus(std::string& out, const std::vector<PrometheusEntry>& entries,
                                    std::chrono::system_clock::time_point now) {
  using detail::PrometheusValue;
  using time_point = std::chrono::system_clock::time_point;
  for (const auto& entry : entries) detail::check_labels(entry.labels, true);
  const detail::PrometheusFamily families[] = {
      {"mskiam_credential_fetches_total", "counter", "Times the credential source was asked.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         return std::to_string(e.metrics.counters.fetches);
       }},
      {"mskiam_credential_fetch_failures_total", "counter",
       "Fetches that failed; valid cached credentials were kept.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         return std::to_string(e.metrics.counters.failures);
       }},
      {"mskiam_principal_changes_total", "counter",
       "Refreshed credentials that carried another principal and were taken.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         return std::to_string(e.metrics.counters.principal_changes);
       }},
      {"mskiam_tokens_signed_total", "counter", "Tokens signed.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         return std::to_string(e.metrics.counters.tokens);
       }},
      {"mskiam_credentials_expiry_seconds", "gauge",
       "Seconds until the cached credentials expire; negative once expired.",
       [](const PrometheusEntry& e, time_point at) {
         return detail::seconds_between(at, e.metrics.credential_expiration);
       }},
      {"mskiam_token_expiry_seconds", "gauge",
       "Seconds until the last token signed expires; negative once expired.",
       [](const PrometheusEntry& e, time_point at) {
         return detail::seconds_between(at, e.metrics.token_expiration);
       }},
      {"mskiam_last_success_age_seconds", "gauge", "Seconds since the last successful fetch.",
       [](const PrometheusEntry& e, time_point at) {
         return detail::seconds_between(e.metrics.last_success, at);
       }},
      {"mskiam_refresh_failing", "gauge", "1 while the last fetch failed, 0 after a success.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         return std::string(e.metrics.last_fetch_failed ? "1" : "0");
       }},
      {"mskiam_token_lifetime_seconds", "gauge", "The token lifetime the provider asks for.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         if (!e.token_lifetime) return std::nullopt;
         return std::to_string(e.token_lifetime->count());
       }},
      {"mskiam_clock_offset_seconds", "gauge",
       "This clock minus STS's (the Date of an STS answer); MSK refuses beyond 300.",
       [](const PrometheusEntry& e, time_point) -> PrometheusValue {
         if (!e.clock_offset_seconds) return std::nullopt;
         return detail::prometheus_number(*e.clock_offset_seconds);
       }},
      {"mskiam_provider_info", "gauge", "The principal and source of the cached credentials.",
       [](const PrometheusEntry&, time_point) -> PrometheusValue { return std::string("1"); },
       true},
  };
  for (const auto& family : families) {
    std::string samples;
    for (const auto& entry : entries)
      if (const PrometheusValue value = family.value(entry, now))
        detail::append_sample(samples, family, entry, *value);
    if (samples.empty()) continue;
    out.append("# HELP ").append(family.name).append(" ").append(family.help).append("\n");
    out.append("# TYPE ").append(family.name).append(" ").append(family.type).append("\n");
    out += samples;
  }
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
