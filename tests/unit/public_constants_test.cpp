// Public constants are declared by public headers, in the declarations part, so that the same
// names compile in both build modes (the compiled mode's unit tests build this file with
// MSKIAM_COMPILED_LIB: a constant kept in a definition-only detail header fails to compile there).
#include <string_view>

#include "catch.hpp"
#include "mskiam/sources/profile.hpp"
#include "mskiam/validation.hpp"

TEST_CASE("public constants: the profile's variables and limits are public in both build modes") {
  CHECK(mskiam::profile_env == std::string_view("AWS_PROFILE"));
  CHECK(mskiam::default_profile_env == std::string_view("AWS_DEFAULT_PROFILE"));
  CHECK(mskiam::config_file_env == std::string_view("AWS_CONFIG_FILE"));
  CHECK(mskiam::shared_credentials_file_env == std::string_view("AWS_SHARED_CREDENTIALS_FILE"));
  CHECK(mskiam::default_profile_name == std::string_view("default"));
  CHECK(mskiam::max_profile_chain > 1);
  CHECK(mskiam::region_env == std::string_view("AWS_REGION"));
  CHECK(mskiam::default_region_env == std::string_view("AWS_DEFAULT_REGION"));
}
