// The AWS shared configuration files (~/.aws/config and ~/.aws/credentials): an INI dialect with
// the rules the SDKs agree on (references: credentials.md §2.2; botocore configloader,
// JS @smithy/shared-ini-file-loader parseIni, aws-c-sdkutils aws_profile.c).
//
//   config file        [default] or [profile default] (the latter wins), [profile NAME];
//                      [sso-session X], [services X] and any other section are ignored
//   credentials file   [NAME]; a `profile ` prefix is not allowed there, such sections are ignored
//   comments           `#` or `;` at the start of a line, or after whitespace inside a line
//   properties         `key = value`, both trimmed; later values win; keys are matched without
//                      regard to case (botocore, i.e. the AWS CLI, lower-cases them; a file the
//                      CLI accepts must work here too); profile names are case-sensitive
//   sub-sections       `s3 =` with an empty value opens indented `k = v` lines: skipped
//   continuations      a line indented deeper than the property above it continues its value
//                      (botocore, aws-c-sdkutils), joined with a newline
//
// Anything else is a malformed line: Error(bad_document, "profile", "<file>:<line>: ...").
// Messages never quote a line or a value: a malformed line may well be a pasted secret key.
// Inputs are capped (max_shared_file_bytes) and parsing is linear in the input.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "mskiam/detail/small_file.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

// Real files are a few KiB; a 1 MiB cap leaves room for hundreds of profiles and bounds the work
// done on a file someone replaced with something else.
inline constexpr std::size_t max_shared_file_bytes = std::size_t{1} << 20;
inline constexpr std::string_view shared_file_source = "profile";
inline constexpr std::size_t max_unprefixed_names = 64;  // only for hints in messages

enum class IniFlavor {
  config,       // ~/.aws/config: [profile NAME], [default]
  credentials,  // ~/.aws/credentials: [NAME]
};

// The top-level properties of one profile, keys lower-cased.
struct IniProfile {
  std::map<std::string, std::string, std::less<>> values;
  std::size_t line = 0;  // line of its first section header

  const std::string* get(std::string_view key) const {
    const auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }
};

struct IniFile {
  std::string path;      // as named in errors
  bool present = false;  // false: the file does not exist (not an error: both files are optional)
  std::map<std::string, IniProfile, std::less<>> profiles;
  // Config-file sections `[NAME]` without the `profile ` prefix (ignored, as the SDKs do): kept
  // to explain a "profile not found" that is really a missing prefix.
  std::set<std::string, std::less<>> unprefixed;
};

// Parses `text` as a file of the given flavor; `path` is only used in error messages.
inline IniFile parse_ini(std::string_view text, IniFlavor flavor, std::string path);
// Reads and parses `path`. A file that does not exist gives present == false; one that cannot be
// read throws Error(io), one too large or malformed Error(bad_document), both naming the path.
inline IniFile read_ini_file(const std::string& path, IniFlavor flavor);

// Both files, and the one view of a profile the SDKs give: for the same profile, the credentials
// file overrides the config file key by key (botocore session.full_config, JS mergeConfigFiles).
struct SharedFiles {
  IniFile config;
  IniFile credentials;

  bool has_profile(std::string_view name) const {
    return config.profiles.count(name) != 0 || credentials.profiles.count(name) != 0;
  }

  std::optional<IniProfile> profile(std::string_view name) const {
    const auto c = config.profiles.find(name);
    const auto k = credentials.profiles.find(name);
    if (c == config.profiles.end() && k == credentials.profiles.end()) return std::nullopt;
    IniProfile merged;
    if (c != config.profiles.end()) merged = c->second;
    if (k != credentials.profiles.end()) {
      for (const auto& [key, value] : k->second.values) merged.values[key] = value;
      if (merged.line == 0) merged.line = k->second.line;
    }
    return merged;
  }

  // "; the config file has a [dev] section, which needs the prefix there: [profile dev]"
  std::string prefix_hint(std::string_view name) const {
    if (config.unprefixed.count(name) == 0) return {};
    return "; " + config.path + " has a [" + std::string(name) +
           "] section, which needs the prefix in the config file: [profile " + std::string(name) +
           "]";
  }

  // "/home/u/.aws/config (absent), /home/u/.aws/credentials": for "not found" messages.
  std::string searched() const {
    std::string text = config.path + (config.present ? "" : " (absent)");
    text += ", " + credentials.path + (credentials.present ? "" : " (absent)");
    return text;
  }
};

// ---------------------------------------------------------------------------------------------

inline bool ini_is_space(char c) noexcept { return c == ' ' || c == '\t'; }


// Cuts a comment that starts with `#` or `;` after whitespace (JS parseIni: /(^|\s)[;#]/).
inline std::string_view ini_strip_comment(std::string_view s) noexcept {
  for (std::size_t i = 1; i < s.size(); ++i)
    if ((s[i] == '#' || s[i] == ';') && ini_is_space(s[i - 1])) return s.substr(0, i);
  return s;
}

// `word` followed by at least one blank, then the rest: `profile  dev` -> `dev`.
inline std::optional<std::string_view> ini_after_word(std::string_view s, std::string_view word) {
  if (s.size() <= word.size() || s.compare(0, word.size(), word) != 0 ||
      !ini_is_space(s[word.size()]))
    return std::nullopt;
  return trim(s.substr(word.size()));
}

// botocore splits section names with shlex, JS accepts matching quotes: `[profile "my name"]`.
inline std::string_view ini_unquote(std::string_view s) noexcept {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

[[noreturn]] inline void ini_fail(const std::string& path, std::size_t line, const char* what) {
  throw Error(ErrorKind::bad_document, std::string(shared_file_source),
              path + ":" + std::to_string(line) + ": " + what);
}

inline IniFile parse_ini(std::string_view text, IniFlavor flavor, std::string path) {
  IniFile file;
  file.path = std::move(path);
  file.present = true;
  if (text.size() > max_shared_file_bytes)
    throw Error(ErrorKind::bad_document, std::string(shared_file_source),
                file.path + ": larger than " + std::to_string(max_shared_file_bytes) + " bytes");
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.remove_prefix(3);  // UTF-8 byte order mark

  // `[default]` is used only when there is no `[profile default]` (credentials.md §2.2).
  IniProfile plain_default;
  bool have_plain_default = false;

  bool in_section = false;
  IniProfile* target = nullptr;  // null inside an ignored section
  enum class Last { none, value, subsection } last = Last::none;
  std::string last_key;
  std::size_t last_indent = 0;

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::size_t indent = 0;
    while (indent < line.size() && ini_is_space(line[indent])) ++indent;
    std::string_view rest = line.substr(indent);
    if (rest.empty() || rest.front() == '#' || rest.front() == ';') continue;
    const std::string_view content = trim(ini_strip_comment(rest));
    if (content.empty()) continue;

    // A line indented deeper than the property above it belongs to that property.
    if (indent > 0 && last != Last::none && indent > last_indent) {
      if (last == Last::value && target != nullptr) {
        std::string& value = target->values[last_key];
        value += '\n';
        value += content;
      }
      continue;  // sub-section lines (`s3 =` ...) are skipped
    }

    if (content.front() == '[') {
      if (content.back() != ']') ini_fail(file.path, line_no, "section header without closing ]");
      const std::string_view inner = trim(content.substr(1, content.size() - 2));
      in_section = true;
      target = nullptr;
      last = Last::none;
      if (flavor == IniFlavor::config) {
        if (inner == "default") {
          target = &plain_default;
          if (!have_plain_default) plain_default.line = line_no;
          have_plain_default = true;
        } else if (auto name = ini_after_word(inner, "profile")) {
          const std::string_view unquoted = ini_unquote(*name);
          // `[profile a b]` is no profile for botocore (shlex: three words) nor JS.
          const bool quoted = unquoted.size() != name->size();
          if (!unquoted.empty() &&
              (quoted || unquoted.find_first_of(" \t") == std::string_view::npos)) {
            auto [it, inserted] = file.profiles.try_emplace(std::string(unquoted));
            if (inserted) it->second.line = line_no;
            target = &it->second;
          }
        } else if (!ini_after_word(inner, "sso-session") && !ini_after_word(inner, "services") &&
                   file.unprefixed.size() < max_unprefixed_names) {
          file.unprefixed.emplace(inner);
        }
        // [sso-session X], [services X], [NAME] without the prefix: not profiles, ignored.
      } else if (!ini_after_word(inner, "profile") && !inner.empty()) {
        auto [it, inserted] = file.profiles.try_emplace(std::string(inner));
        if (inserted) it->second.line = line_no;
        target = &it->second;
      }
      continue;
    }

    const std::size_t eq = content.find('=');
    if (eq == std::string_view::npos)
      ini_fail(file.path, line_no, "expected `key = value`, a [section] header or a comment");
    const std::string_view key = trim(content.substr(0, eq));
    const std::string_view value = trim(content.substr(eq + 1));
    if (key.empty()) ini_fail(file.path, line_no, "property without a name before =");
    if (!in_section) ini_fail(file.path, line_no, "property before any [section] header");
    last_indent = indent;
    last_key = ascii_lower(key);
    if (value.empty()) {
      last = Last::subsection;  // `s3 =` opens indented sub-properties; no value of its own
      continue;
    }
    last = Last::value;
    if (target != nullptr) target->values[last_key] = std::string(value);
  }

  if (flavor == IniFlavor::config && have_plain_default && file.profiles.count("default") == 0)
    file.profiles.emplace("default", std::move(plain_default));
  return file;
}

inline IniFile read_ini_file(const std::string& path, IniFlavor flavor) {
  const auto file = read_small_file(path, max_shared_file_bytes, shared_file_source, "", true);
  if (!file) {
    IniFile absent;
    absent.path = path;
    return absent;
  }
  if (file->larger)
    throw Error(ErrorKind::bad_document, std::string(shared_file_source),
                path + ": larger than " + std::to_string(max_shared_file_bytes) + " bytes");
  return parse_ini(file->content, flavor, path);
}

}  // namespace detail
MSKIAM_END_NAMESPACE
