// Starts tests/fakes/aws_fakes.py (loopback STS, IMDSv2 and container-credential fakes) for a test, in a
// fresh temporary directory, and stops it when the object goes away. Also a tiny blocking HTTP/1.1
// client over a loopback socket, to drive the fake's /_control and anything else on 127.0.0.1.
// Header-only, C++17, POSIX; no dependency on mskiam.
//
//   mskiam_test::AwsFakes fakes;                        // or AwsFakes{options}
//   fakes.control(R"({"faults": [{"endpoint": "sts", "type": "error", "code": "Throttling"}]})");
//   setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (fakes.url() + "/pod-identity").c_str(), 1);
//
// MSKIAM_SOURCE_DIR (the project root; the CMake build defines it) locates the script;
// MSKIAM_PYTHON (default /usr/bin/python3) runs it. The fake stops by itself if the test process dies.
// The directory (and the registry in it, unless options.registry_path names another file) is deleted
// by the destructor: destroy an emulator that reads the registry first, or give it its own file. The
// environment variable MSKIAM_KEEP_TEST_DIRS=1 keeps the temporary directory (log, registry, stderr)
// for inspection. MSKIAM_SECRET_SWEEP_DIR (set by CTest) receives a copy of the registry, the request
// log and stderr first, so that tests/secret_sweep.py searches them for every secret issued.
#pragma once

#include "child_process.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <utility>
#include <vector>

#ifndef MSKIAM_PYTHON
#define MSKIAM_PYTHON "/usr/bin/python3"
#endif

namespace mskiam_test {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;

  std::optional<std::string> header(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first.size() == name.size() &&
          std::equal(h.first.begin(), h.first.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return h.second;
      }
    }
    return std::nullopt;
  }
};

namespace detail {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

inline std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace detail

// One blocking HTTP/1.1 request to 127.0.0.1:port with "Connection: close"; reads the whole answer.
// Throws std::runtime_error on connection errors, timeouts and unparsable answers.
inline HttpResponse http_request(int port, const std::string& method, const std::string& target,
                                 const std::string& body = {},
                                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  detail::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) throw detail::sys_error("socket");
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc;
  do {
    rc = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) throw detail::sys_error("connect 127.0.0.1:" + std::to_string(port));

  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  bool has_type = false;
  for (const auto& h : headers) {
    req += h.first + ": " + h.second + "\r\n";
    if (h.first == "Content-Type" || h.first == "content-type") has_type = true;
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "Connection: close\r\n\r\n";
  req += body;
  for (std::size_t sent = 0; sent < req.size();) {
    const ssize_t n = ::send(sock.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw detail::sys_error("send");
    }
    sent += static_cast<std::size_t>(n);
  }

  std::string raw;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw std::runtime_error("HTTP request timed out");
      throw detail::sys_error("recv");
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }

  const std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("HTTP: no complete response header");
  HttpResponse resp;
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.compare(0, 5, "HTTP/") != 0) throw std::runtime_error("HTTP: bad status line");
  const std::size_t sp = line.find(' ');
  if (sp == std::string::npos) throw std::runtime_error("HTTP: bad status line");
  resp.status = std::atoi(line.c_str() + sp + 1);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t v = colon + 1;
    while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
    resp.headers.emplace_back(line.substr(0, colon), line.substr(v));
  }
  resp.body = raw.substr(head_end + 4);
  if (auto len = resp.header("Content-Length")) {
    const auto want = static_cast<std::size_t>(std::strtoull(len->c_str(), nullptr, 10));
    if (resp.body.size() < want) throw std::runtime_error("HTTP: truncated body");
    resp.body.resize(want);
  }
  return resp;
}

struct AwsFakesOptions {
  std::vector<std::string> base_credentials;  // "AKID:SECRET[:ARN]" each (--base-credentials)
  std::string config_json;                    // written to <dir>/config.json, passed as --config
  std::optional<int> credential_lifetime_s;   // --credential-lifetime-s
  std::string expected_web_identity_token_file;
  std::string registry_path;                  // empty: <dir>/registry.json (give the emulator's to share)
  std::chrono::milliseconds start_timeout{15000};
};

class AwsFakes {
 public:
  explicit AwsFakes(AwsFakesOptions options = {}) {
    const std::string source_dir = source_dir_();
    const std::string script = source_dir + "/tests/fakes/aws_fakes.py";
    if (!std::filesystem::exists(script)) throw std::runtime_error("AwsFakes: no " + script);

    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/mskiam-aws-fakes-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw detail::sys_error("mkdtemp " + templ);
    dir_ = buf.data();

    registry_ = options.registry_path.empty() ? dir_ + "/registry.json" : options.registry_path;
    log_ = dir_ + "/requests.jsonl";
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> argv{MSKIAM_PYTHON, script, "--port", "0", "--port-file", port_file,
                                  "--registry", registry_, "--log", log_, "--exit-with-parent"};
    for (const auto& b : options.base_credentials) {
      argv.push_back("--base-credentials");
      argv.push_back(b);
    }
    if (!options.config_json.empty()) {
      const std::string cfg = dir_ + "/config.json";
      std::ofstream(cfg) << options.config_json;
      argv.push_back("--config");
      argv.push_back(cfg);
    }
    if (options.credential_lifetime_s) {
      argv.push_back("--credential-lifetime-s");
      argv.push_back(std::to_string(*options.credential_lifetime_s));
    }
    if (!options.expected_web_identity_token_file.empty()) {
      argv.push_back("--expected-web-identity-token-file");
      argv.push_back(options.expected_web_identity_token_file);
    }
    SpawnOptions spawn;
    spawn.stderr_path = dir_ + "/stderr.log";
    try {
      child_ = ChildProcess(argv, spawn);
      port_ = wait_for_port_file(port_file, options.start_timeout, &child_);
    } catch (const std::exception& e) {
      const std::string err = read_file(dir_ + "/stderr.log");
      child_.stop();
      remove_dir_();
      throw std::runtime_error(std::string("AwsFakes: ") + e.what() + (err.empty() ? "" : "\n" + err));
    }
  }

  AwsFakes(const AwsFakes&) = delete;
  AwsFakes& operator=(const AwsFakes&) = delete;

  ~AwsFakes() {
    child_.stop();
    keep_for_secret_sweep_();
    remove_dir_();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  const std::string& registry_path() const { return registry_; }
  const std::string& log_path() const { return log_; }
  pid_t pid() const { return child_.pid(); }

  // POST /_control with a JSON document (README.md in tests/fakes); returns the answer's body.
  // Throws std::runtime_error if the fake refuses it.
  std::string control(const std::string& json) const {
    HttpResponse r = http_request(port_, "POST", "/_control", json);
    if (r.status != 200) throw std::runtime_error("AwsFakes::control: HTTP " + std::to_string(r.status) + ": " + r.body);
    return r.body;
  }

  // Any request to the fake (e.g. "GET", "/pod-identity").
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    return http_request(port_, method, target, body, headers);
  }

  // The request log so far, one JSON object per line (see tests/fakes/README.md for the fields).
  std::vector<std::string> log_lines() const {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

  std::string registry_json() const { return read_file(registry_); }

 private:
  static std::string source_dir_() {
#ifdef MSKIAM_SOURCE_DIR
    std::string dir = MSKIAM_SOURCE_DIR;
#else
    std::string dir;
#endif
    if (const char* env = std::getenv("MSKIAM_SOURCE_DIR"); dir.empty() && env != nullptr) dir = env;
    if (dir.empty()) throw std::runtime_error("AwsFakes: define MSKIAM_SOURCE_DIR (the project root)");
    return dir;
  }

  // Copies to $MSKIAM_SECRET_SWEEP_DIR: registry-<pid>-<n>.json, fakes-<pid>-<n>.{requests,stderr}.log.
  void keep_for_secret_sweep_() const noexcept {
    const char* sweep = std::getenv("MSKIAM_SECRET_SWEEP_DIR");
    if (sweep == nullptr || *sweep == '\0' || dir_.empty()) return;
    static int kept = 0;
    const std::string to = std::string(sweep) + "/";
    const std::string id = std::to_string(::getpid()) + "-" + std::to_string(++kept);
    std::error_code ec;
    std::filesystem::create_directories(to, ec);
    const auto copy = [&ec](const std::string& from, const std::string& dest) {
      std::filesystem::copy_file(from, dest, std::filesystem::copy_options::overwrite_existing, ec);
    };
    copy(registry_, to + "registry-" + id + ".json");
    copy(log_, to + "fakes-" + id + ".requests.log");
    copy(dir_ + "/stderr.log", to + "fakes-" + id + ".stderr.log");
  }

  void remove_dir_() noexcept {
    const char* keep = std::getenv("MSKIAM_KEEP_TEST_DIRS");
    if (dir_.empty() || (keep != nullptr && *keep != '\0' && std::string(keep) != "0")) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::string registry_;
  std::string log_;
  ChildProcess child_;
  int port_ = 0;
};

}  // namespace mskiam_test
