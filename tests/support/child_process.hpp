// A child process for tests: posix_spawnp with an argv vector (no shell), optional stdout/stderr
// redirection to files, waiting for a file the child writes (a port file), and RAII shutdown: SIGTERM,
// then SIGKILL after a grace period, then reap. Header-only, C++17, POSIX; no dependency on mskiam.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace mskiam_test {

struct SpawnOptions {
  std::string stdout_path;  // empty: inherit
  std::string stderr_path;  // empty: inherit
  std::string stdin_path = "/dev/null";
};

class ChildProcess {
 public:
  ChildProcess() = default;

  // Starts argv[0] (searched on PATH if it has no '/') with argv. Throws std::runtime_error.
  explicit ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options = {}) {
    if (argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0) throw std::runtime_error("posix_spawn_file_actions_init");
    auto redirect = [&actions](int fd, const std::string& path, int flags) {
      if (!path.empty()) posix_spawn_file_actions_addopen(&actions, fd, path.c_str(), flags, 0644);
    };
    redirect(0, options.stdin_path, O_RDONLY);
    redirect(1, options.stdout_path, O_WRONLY | O_CREAT | O_APPEND);
    redirect(2, options.stderr_path, O_WRONLY | O_CREAT | O_APPEND);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Do not leak the test's descriptors (listening sockets, pipes) into the child.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
    // The child starts with no blocked signals and default handlers for the ones used to stop it,
    // whatever the test process (or its runner) did with them.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      throw std::runtime_error("ChildProcess: cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    pid_ = pid;
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
      stop();
      pid_ = std::exchange(other.pid_, -1);
      status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
  }
  ~ChildProcess() { stop(); }

  pid_t pid() const { return pid_; }

  // True while the child has not exited (reaps it if it has).
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      if (r == pid_) status_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Raw wait status once the child has been reaped.
  std::optional<int> wait_status() const { return status_; }

  // SIGTERM, wait up to `grace`, then SIGKILL; reaps. Returns the raw wait status if it was reaped.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) noexcept {
    if (pid_ <= 0) return status_;
    if (!running()) return status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running()) return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    int st = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) status_ = st;
    pid_ = -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits until `path` exists and is non-empty (writers should create it atomically: tmp + rename) and
// returns its contents. Throws std::runtime_error on timeout, or at once if `child` has exited.
inline std::string wait_for_file(const std::string& path, std::chrono::milliseconds timeout,
                                 ChildProcess* child = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size > 0) return read_file(path);
    if (child != nullptr && !child->running()) {
      throw std::runtime_error("child exited before writing " + path);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("timed out waiting for " + path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Waits for a port file (a decimal port, optionally followed by a newline); returns the port.
inline int wait_for_port_file(const std::string& path, std::chrono::milliseconds timeout,
                              ChildProcess* child = nullptr) {
  std::istringstream in(wait_for_file(path, timeout, child));
  int port = 0;
  if (!(in >> port) || port <= 0 || port > 65535) throw std::runtime_error("bad port file " + path);
  return port;
}

}  // namespace mskiam_test
