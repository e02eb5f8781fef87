// Test helpers of the container, IMDS and process source tests: environment and temporary
// directory guards, error capture, and a recording HttpTransport.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/detail/json.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"
#include "support/error_of.hpp"

namespace local_endpoints_test {

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Sets and unsets variables; restores every touched variable when destroyed.
class EnvGuard {
 public:
  EnvGuard() = default;
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }
  void set(const std::string& name, const std::string& value) {
    save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/mskiam-local-endpoints-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    const std::string command = "rm -rf '" + path_ + "'";
    if (std::system(command.c_str()) != 0) {
    }
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    const std::string file = path_ + "/" + name;
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("cannot write " + file);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    ::chmod(file.c_str(), mode);
    return file;
  }

 private:
  std::string path_;
};

using mskiam_test::error_of;

// An HttpTransport that records every request and answers with `handler`.
class RecordingTransport {
 public:
  using Handler = std::function<mskiam::HttpResponse(const mskiam::HttpRequest&, std::size_t index)>;
  explicit RecordingTransport(Handler handler) : state_(std::make_shared<State>()) {
    state_->handler = std::move(handler);
  }
  mskiam::HttpTransport transport() const {
    auto state = state_;
    return [state](const mskiam::HttpRequest& r) {
      std::size_t index;
      {
        std::lock_guard<std::mutex> lock(state->mutex);
        index = state->requests.size();
        state->requests.push_back(r);
      }
      return state->handler(r, index);
    };
  }
  std::vector<mskiam::HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->requests;
  }
  std::size_t count() const { return requests().size(); }

 private:
  struct State {
    std::mutex mutex;
    std::vector<mskiam::HttpRequest> requests;
    Handler handler;
  };
  std::shared_ptr<State> state_;
};

inline mskiam::HttpResponse response(long status, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  mskiam::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

inline std::optional<std::string> header_of(const mskiam::HttpRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size(); ++i) {
      char a = n[i], b = name[i];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
      same = same && a == b;
    }
    if (same) return v;
  }
  return std::nullopt;
}

// One parsed request-log line of the loopback fakes (tests/fakes/README.md, "Request log").
struct LogEntry {
  mskiam::detail::json::Value value;
  std::string field(std::string_view name) const {
    const auto* v = value.find(name);
    if (v == nullptr || v->is_null()) return {};
    return v->is_string() || v->is_number() ? v->text() : std::string(v->is_bool() ? "bool" : "?");
  }
};

// The entries of `lines` (AwsFakes::log_lines()) for one endpoint, in order.
inline std::vector<LogEntry> log_entries(const std::vector<std::string>& lines, std::string_view endpoint) {
  std::vector<LogEntry> out;
  for (const auto& line : lines) {
    LogEntry e{mskiam::detail::json::parse(line, "fake log")};
    if (e.field("endpoint") == endpoint) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace local_endpoints_test
