// AWS config and credentials files: parse_ini on arbitrary text as both flavours, then the
// profile rules over every profile found. Input: config text, NUL, credentials text. Anything
// but an mskiam::Error is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mskiam/detail/ini.hpp"
#include "mskiam/detail/profile_plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mskiam::detail;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = text.find('\0');
  const std::string_view config = text.substr(0, cut);
  const std::string_view credentials =
      cut == std::string_view::npos ? std::string_view() : text.substr(cut + 1);
  SharedFiles files;
  try {
    files.config = parse_ini(config, IniFlavor::config, "config");
    files.credentials = parse_ini(credentials, IniFlavor::credentials, "credentials");
  } catch (const mskiam::Error&) {
    return 0;
  }
  std::vector<std::string> names{"default"};
  for (const auto& entry : files.config.profiles) names.push_back(entry.first);
  for (const auto& entry : files.credentials.profiles) names.push_back(entry.first);
  for (const auto& name : names) {
    try {
      (void)files.profile(name);
      (void)plan_profile(files, name, mskiam::SessionName{}).describe();
    } catch (const mskiam::Error&) {
    }
  }
  return 0;
}
