// HTTP for the credential sources, through libcurl: connect and total timeouts, TLS verification
// on, redirects never followed, a response size cap, proxies from the usual environment
// variables (libcurl reads http_proxy, HTTPS_PROXY, NO_PROXY). The only header that includes curl.
//
// The seam for tests is HttpTransport: every source that talks HTTP takes one, defaulting to
// curl_transport; a test passes a lambda, or points the source at a loopback fake.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::size_t default_max_response_bytes = 1 << 20;  // credential documents are ~2 KiB

struct HttpRequest {
  std::string source;  // who asks (`sts`, `imds`...): named in every error
  std::string method = "GET";
  std::string url;     // never put a secret in it: URLs end up in error messages
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(2)};
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  std::size_t max_response_bytes = default_max_response_bytes;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case

  std::optional<std::string> header(std::string_view lower_case_name) const;
};

// Performs one request; throws mskiam::Error (timeout, transport, bad_document for an oversized
// body) naming request.source. Any HTTP status is a response, not an error.
using HttpTransport = std::function<HttpResponse(const HttpRequest&)>;

// The libcurl transport. One easy handle per request: credential fetches are rare.
HttpResponse curl_transport(const HttpRequest& request);

// Retries for the failures worth retrying (timeouts, transport errors, and whatever `retryable`
// says of an Error), with capped, jittered exponential backoff. Blocks the calling thread for
// at most the sum of the delays; the caller's timeouts bound each attempt.
struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{std::chrono::seconds(2)};
};

namespace detail {
// The pause after failed attempt `attempt` (1, 2...): full jitter in [delay/2, delay], with
// delay = base_delay * 2^(attempt-1) capped at max_delay. Draws from `seed`; blocks the thread.
void retry_pause(const RetryPolicy& policy, int attempt, std::uint64_t& seed);
}  // namespace detail

// One request through `transport`, with retries (`policy`) of 5xx answers and, when
// `retry_timeouts`, of timeouts. A 5xx answer to the last attempt is an http_status error
// "<METHOD> <url> answered HTTP <status><describe(body)>" with the status as its code; any other
// answer is returned as it is.
HttpResponse send_retrying_5xx(const HttpTransport& transport, const HttpRequest& request,
                               const RetryPolicy& policy, bool retry_timeouts,
                               std::string (*describe)(std::string_view body) = nullptr);

template <class Attempt, class Retryable>
auto with_retries(const RetryPolicy& policy, Attempt&& attempt, Retryable&& retryable)
    -> decltype(attempt()) {
  std::uint64_t seed = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 1;; ++i) {
    try {
      return attempt();
    } catch (const Error& e) {
      if (i >= policy.max_attempts || !retryable(e)) throw;
    }
    detail::retry_pause(policy, i, seed);
  }
}

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "mskiam/detail/text.hpp"
#include "mskiam/policy.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE std::optional<std::string> HttpResponse::header(
    std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_case_name) return value;
  return std::nullopt;
}

namespace detail {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct CurlHandleDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct CurlListDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

struct CurlSink {
  HttpResponse* response;
  std::size_t limit;
  bool overflow = false;
};

MSKIAM_INLINE std::size_t curl_write_body(char* data, std::size_t size, std::size_t count,
                                         void* user) {
  auto* sink = static_cast<CurlSink*>(user);
  const std::size_t n = size * count;
  if (sink->response->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->response->body.append(data, n);
  return n;
}

MSKIAM_INLINE std::size_t curl_write_header(char* data, std::size_t size, std::size_t count,
                                           void* user) {
  auto* sink = static_cast<CurlSink*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = detail::ascii_lower(line.substr(0, colon));
    sink->response->headers.emplace_back(std::move(name),
                                         std::string(detail::trim(line.substr(colon + 1))));
  } else if (line.compare(0, 5, "HTTP/") == 0) {
    sink->response->headers.clear();  // a new status line (100 Continue): start over
  }
  return n;
}

}  // namespace detail

MSKIAM_INLINE HttpResponse curl_transport(const HttpRequest& request) {
  static detail::CurlGlobal global;
  (void)global;
  std::unique_ptr<CURL, detail::CurlHandleDeleter> curl(curl_easy_init());
  if (!curl) throw Error(ErrorKind::internal, request.source, "curl_easy_init failed");
  CURL* c = curl.get();

  HttpResponse response;
  detail::CurlSink sink{&response, request.max_response_bytes};
  char error_text[CURL_ERROR_SIZE] = {};

  std::unique_ptr<curl_slist, detail::CurlListDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) throw Error(ErrorKind::internal, request.source, "curl_slist_append failed");
    headers.release();
    headers.reset(next);
  }
  // Without this libcurl adds `Expect: 100-continue` to POST bodies over 1 KiB.
  curl_slist* next = curl_slist_append(headers.get(), "Expect:");
  if (next != nullptr) {
    headers.release();
    headers.reset(next);
  }

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: safe in any thread
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &detail::curl_write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &detail::curl_write_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);

  const CURLcode rc = curl_easy_perform(c);
  if (sink.overflow)
    throw Error(ErrorKind::bad_document, request.source,
                "response from " + request.url + " is larger than " +
                    std::to_string(request.max_response_bytes) + " bytes");
  if (rc != CURLE_OK) {
    const std::string why = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT)
      throw Error(ErrorKind::timeout, request.source,
                  request.method + " " + request.url + " timed out: " + why);
    throw Error(ErrorKind::transport, request.source,
                request.method + " " + request.url + " failed: " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

MSKIAM_INLINE HttpResponse send_retrying_5xx(const HttpTransport& transport,
                                             const HttpRequest& request, const RetryPolicy& policy,
                                             bool retry_timeouts,
                                             std::string (*describe)(std::string_view body)) {
  const auto is_5xx = [](long status) { return status >= 500 && status <= 599; };
  return with_retries(
      policy,
      [&] {
        HttpResponse response = transport(request);
        if (is_5xx(response.status))
          throw Error(ErrorKind::http_status, request.source,
                      request.method + " " + request.url + " answered HTTP " +
                          std::to_string(response.status) +
                          (describe != nullptr ? describe(response.body) : std::string()),
                      std::to_string(response.status));
        return response;
      },
      [&](const Error& e) {
        if (e.kind() == ErrorKind::timeout) return retry_timeouts;
        return e.kind() == ErrorKind::http_status && e.code().size() == 3 && e.code()[0] == '5';
      });
}

MSKIAM_INLINE void detail::retry_pause(const RetryPolicy& policy, int attempt,
                                       std::uint64_t& seed) {
  std::this_thread::sleep_for(jittered_backoff(policy.base_delay, policy.max_delay,
                                               static_cast<unsigned>(attempt), seed));
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
