// detail::json::parse and parse_credential_document (every DocumentKind) on arbitrary input:
// either a value or an mskiam::Error(bad_document / service_error), nothing else; and an error
// message never quotes a 12-byte run of the input (it may hold a secret).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/json.hpp"

namespace {
// A 12-byte run of the input that holds a character no message template contains (secret keys
// and session tokens are base64: '/' and '+' are common in them).
bool quotes_input(std::string_view message, std::string_view input) {
  constexpr std::size_t run = 12;
  for (std::size_t i = 0; i + run <= input.size(); i += run) {
    const std::string_view piece = input.substr(i, run);
    bool distinctive = false;
    for (char c : piece) distinctive = distinctive || c == '/' || c == '+' || c == '~' || c == '^';
    if (distinctive && message.find(piece) != std::string_view::npos) return true;
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  namespace json = mskiam::detail::json;
  try {
    const json::Value v = json::parse(input, "fuzz", json::Limits{1 << 16, 16});
    (void)v.as_integer();
    (void)v.find("AccessKeyId");
  } catch (const mskiam::Error& e) {
    if (e.kind() != mskiam::ErrorKind::bad_document) std::abort();
    if (quotes_input(e.message(), input)) std::abort();
  }
  for (auto kind : {mskiam::detail::DocumentKind::any, mskiam::detail::DocumentKind::imds,
                    mskiam::detail::DocumentKind::process}) {
    try {
      const auto c = mskiam::detail::parse_credential_document(input, "fuzz", kind);
      if (c.access_key_id.empty() || c.secret_access_key.empty()) std::abort();
    } catch (const mskiam::Error& e) {
      if (e.kind() != mskiam::ErrorKind::bad_document && e.kind() != mskiam::ErrorKind::service_error)
        std::abort();
      if (quotes_input(e.message(), input)) std::abort();
    }
  }
  return 0;
}
