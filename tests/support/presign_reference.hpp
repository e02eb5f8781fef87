// The canonical request of a SigV4 query-string presign, written plainly from the specification:
// what the published presign vectors (tests/unit/sigv4_vectors_test.cpp) and the benchmarks
// check mskiam's SigV4 steps against. sign_token builds the same text from prepared parts
// (mskiam/token.hpp); the token vectors and botocore check that one.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/detail/encoding.hpp"
#include "mskiam/sigv4.hpp"

namespace mskiam_test {

// Names and values URI-encoded, sorted by encoded name (then value), joined with `&`.
inline std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : params)
    encoded.emplace_back(mskiam::detail::uri_encode(name), mskiam::detail::uri_encode(value));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

// A presigned GET whose only signed header is `host`; `canonical_uri` and `query` encoded.
inline std::string presign_canonical_request(std::string_view canonical_uri, std::string_view query,
                                             std::string_view host) {
  std::string out = "GET\n";
  out.append(canonical_uri).append("\n").append(query).append("\nhost:").append(host);
  out.append("\n\nhost\n").append(mskiam::sigv4::empty_payload_hash);
  return out;
}

}  // namespace mskiam_test
