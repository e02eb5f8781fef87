// detail::json::parse and parse_credential_document (every DocumentKind) on arbitrary input:
// either a value or an mskiam::Error(bad_document / service_error), nothing else; and an error
// message never quotes a secret the document carried.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/json.hpp"
#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const fuzz::Secrets secrets = fuzz::secrets_of_document(input);
  namespace json = mskiam::detail::json;
  try {
    const json::Value v = json::parse(input, "fuzz", json::Limits{1 << 16, 16});
    (void)v.as_integer();
    (void)v.find("AccessKeyId");
  } catch (const mskiam::Error& e) {
    fuzz::check_error(e, {mskiam::ErrorKind::bad_document}, secrets, {}, input);
  }
  for (auto kind : {mskiam::detail::DocumentKind::any, mskiam::detail::DocumentKind::imds,
                    mskiam::detail::DocumentKind::process}) {
    try {
      const auto c = mskiam::detail::parse_credential_document(input, "fuzz", kind);
      if (c.access_key_id.empty() || c.secret_access_key.empty()) std::abort();
    } catch (const mskiam::Error& e) {
      fuzz::check_error(e, {mskiam::ErrorKind::bad_document, mskiam::ErrorKind::service_error}, secrets, {},
                        input);
    }
  }
  return 0;
}
