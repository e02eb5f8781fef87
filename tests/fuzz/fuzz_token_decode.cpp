// decode_token on arbitrary input: either a DecodedToken or an mskiam::Error, nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mskiam/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto decoded = mskiam::decode_token(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)decoded.redacted_url();
    (void)decoded.expires_at();
  } catch (const mskiam::Error&) {
  }
  return 0;
}
