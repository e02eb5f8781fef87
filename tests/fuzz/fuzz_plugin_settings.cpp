// The plugin's settings parser (sasl.oauthbearer.config, written by whoever configures the client)
// on arbitrary text: either Settings or a SettingsError whose message names the property, nothing
// else (an exception of another type would escape librdkafka's conf callback). An input with a
// line `bootstrap.servers=LIST` gives the brokers too, whose host names may give the region
// (mskiam/brokers.hpp): a region so found is always a region id.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.hpp"
#include "settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view brokers_line = "\nbootstrap.servers=";
  const std::size_t at = input.find(brokers_line);
  const std::string_view text = input.substr(0, at);
  const std::string_view bootstrap =
      at == std::string_view::npos ? std::string_view{} : input.substr(at + brokers_line.size());
  try {
    const mskiam_plugin::Settings s = mskiam_plugin::parse_settings(text, bootstrap);
    if (s.region.empty()) fuzz::finding("settings without a region", input);
    if (!mskiam::detail::is_region_id(s.region)) fuzz::finding("a region that is no region id", input);
    if (s.lifetime.count() < 1 || s.lifetime.count() > 900) fuzz::finding("lifetime out of 1..900", text);
  } catch (const mskiam_plugin::SettingsError& e) {
    const std::string_view message = e.what();
    if (message.substr(0, mskiam_plugin::config_property.size()) != mskiam_plugin::config_property)
      fuzz::finding("a settings error that does not name the property", message);
  }
  return 0;
}
