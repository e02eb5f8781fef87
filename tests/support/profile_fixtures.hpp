// Test helpers for the shared-file sources: a temporary directory that removes itself, and an
// environment guard that clears the AWS variables a test touches and restores them afterwards.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mskiam_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/mskiam-profile-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
      ::chmod(it->c_str(), 0700);
      if (::unlink(it->c_str()) != 0) ::rmdir(it->c_str());
    }
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `relative` (parent directories must exist or be created with mkdir) and returns its
  // path.
  std::string write(const std::string& relative, const std::string& content, int mode = 0600) {
    const std::string full = path_ + "/" + relative;
    std::FILE* f = std::fopen(full.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write " + full);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    ::chmod(full.c_str(), static_cast<mode_t>(mode));
    remember(full);
    return full;
  }

  std::string mkdir(const std::string& relative) {
    const std::string full = path_ + "/" + relative;
    ::mkdir(full.c_str(), 0700);
    remember(full);
    return full;
  }

 private:
  void remember(const std::string& full) {
    for (const auto& f : files_)
      if (f == full) return;
    files_.push_back(full);
  }
  std::string path_;
  std::vector<std::string> files_;
};

// Every variable the credential sources read. The guard unsets them all on entry (so the host's
// own AWS setup cannot leak into a test) and restores the previous values on exit.
inline const std::vector<std::string>& aws_environment_names() {
  static const std::vector<std::string> names = {"AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY",
                                                 "AWS_SESSION_TOKEN",
                                                 "AWS_CREDENTIAL_EXPIRATION",
                                                 "AWS_PROFILE",
                                                 "AWS_DEFAULT_PROFILE",
                                                 "AWS_CONFIG_FILE",
                                                 "AWS_SHARED_CREDENTIALS_FILE",
                                                 "AWS_WEB_IDENTITY_TOKEN_FILE",
                                                 "AWS_ROLE_ARN",
                                                 "AWS_ROLE_SESSION_NAME",
                                                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                                 "AWS_EC2_METADATA_DISABLED",
                                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                                                 "AWS_EC2_METADATA_V1_DISABLED",
                                                 "AWS_REGION",
                                                 "AWS_DEFAULT_REGION",
                                                 "AWS_STS_REGIONAL_ENDPOINTS",
                                                 "HOME"};
  return names;
}

class EnvGuard {
 public:
  EnvGuard() {
    for (const auto& name : aws_environment_names()) {
      const char* value = std::getenv(name.c_str());
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name.c_str());
    }
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) { ::unsetenv(name.c_str()); }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace mskiam_test
