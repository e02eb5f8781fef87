// AWS config and credentials files: parse_ini on arbitrary text as both flavours, then the
// profile rules over every profile found. Input: config text, NUL, credentials text. Anything
// but an mskiam::Error of the kinds below, or a message quoting the files (they hold secrets),
// is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mskiam/detail/ini.hpp"
#include "mskiam/detail/profile_plan.hpp"
#include "fuzz_checks.hpp"

namespace {
// The key names the profile rules' messages cite: a secret that contains one is chance.
constexpr std::string_view kKeyNames =
    "aws_access_key_id aws_secret_access_key aws_session_token aws_security_token credential_process "
    "credential_source duration_seconds external_id mfa_serial role_arn role_session_name "
    "source_profile sso_session sso_start_url web_identity_token_file";

// The values of the keys that hold secrets, in every profile of both files.
fuzz::Secrets secret_values(const mskiam::detail::SharedFiles& files) {
  fuzz::Secrets out;
  for (const auto* file : {&files.config, &files.credentials})
    for (const auto& [name, profile] : file->profiles)
      for (const auto& [key, value] : profile.values)
        if (key == "aws_secret_access_key" || key == "aws_session_token") out.push_back(value);
  return out;
}

// The text after '=' on every line.
fuzz::Secrets lines_of(std::string_view text) {
  fuzz::Secrets out;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find_first_of("\n\0", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    const std::size_t eq = line.find('=');
    if (eq != std::string_view::npos) out.push_back(line.substr(eq + 1));
    start = end + 1;
  }
  return out;
}
}  // namespace

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
  } catch (const mskiam::Error& e) {
    // Before the files parse, every line could be a secret's: no run of the input may show.
    fuzz::check_error(e, {mskiam::ErrorKind::bad_document}, lines_of(text), {kKeyNames}, text);
    return 0;
  }
  const fuzz::Secrets secrets = secret_values(files);
  std::vector<std::string> names{"default"};
  for (const auto& entry : files.config.profiles) names.push_back(entry.first);
  for (const auto& entry : files.credentials.profiles) names.push_back(entry.first);
  for (const auto& name : names) {
    try {
      (void)files.profile(name);
      (void)plan_profile(files, name, mskiam::SessionName{}).describe();
    } catch (const mskiam::Error& e) {
      fuzz::check_error(e, {mskiam::ErrorKind::bad_document, mskiam::ErrorKind::invalid_argument,
                            mskiam::ErrorKind::not_configured},
                        secrets, {kKeyNames}, text);
    }
  }
  return 0;
}
