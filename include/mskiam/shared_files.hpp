// Where the shared config and credentials files are and which profile is read: the variables and
// defaults every AWS SDK uses (ProfileCredentials, detail/profile_plan.hpp).
#pragma once

#include <cstddef>
#include <string_view>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view profile_env = "AWS_PROFILE";
inline constexpr std::string_view default_profile_env = "AWS_DEFAULT_PROFILE";
inline constexpr std::string_view config_file_env = "AWS_CONFIG_FILE";
inline constexpr std::string_view shared_credentials_file_env = "AWS_SHARED_CREDENTIALS_FILE";
inline constexpr std::string_view default_profile_name = "default";
inline constexpr std::string_view default_config_path = "~/.aws/config";
inline constexpr std::string_view default_credentials_path = "~/.aws/credentials";
// Real role chains are two or three hops; a cap keeps a pathological file from building a
// source nested thousands deep.
inline constexpr std::size_t max_profile_chain = 32;

MSKIAM_END_NAMESPACE
