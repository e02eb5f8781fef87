// decode_token on arbitrary input: either a DecodedToken or an mskiam::Error (bad_document or
// invalid_argument) whose message does not quote the token (it carries a session token).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.hpp"
#include "mskiam/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    const auto decoded = mskiam::decode_token(input);
    (void)decoded.redacted_url();
    (void)decoded.expires_at();
  } catch (const mskiam::Error& e) {
    fuzz::check_error(e, {mskiam::ErrorKind::bad_document, mskiam::ErrorKind::invalid_argument}, {input});
  }
  return 0;
}
