// libcurl's header callback (detail::curl_write_header) on arbitrary header lines, one call per
// line as libcurl makes them: it must keep what it stores well-formed (names in lower case,
// values without surrounding blanks or line ends) and restart at each status line, whatever the
// server sent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "mskiam/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  mskiam::HttpResponse response;
  mskiam::detail::CurlSink sink{&response, 1 << 20};
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    std::string line(rest.substr(0, end == std::string_view::npos ? rest.size() : end + 1));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const std::size_t taken = mskiam::detail::curl_write_header(line.data(), 1, line.size(), &sink);
    if (taken != line.size()) fuzz::finding("the callback did not take the whole line", line);
  }
  for (const auto& [name, value] : response.headers) {
    for (char c : name)
      if (c >= 'A' && c <= 'Z') fuzz::finding("a header name not in lower case", name);
    if (!value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == '\r' ||
                           value.back() == '\n' || value.back() == ' '))
      fuzz::finding("a header value with surrounding blanks", value);
    if (!response.header(name)) fuzz::finding("a stored header that header() does not find", name);
  }
  return 0;
}
