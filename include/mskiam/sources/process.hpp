// ProcessCredentials: the `credential_process` of an AWS profile (credentials.md §2.4, output
// §6.7). The program prints a JSON document with "Version": 1 on stdout.
//
// No shell, ever: the command line is split into argv here and run with posix_spawnp (PATH
// lookup as botocore does), so `cmd; rm -rf /` runs the program `cmd;` with three arguments.
// Splitting rules, exactly:
//   - spaces, tabs, CR and LF outside double quotes separate arguments;
//   - "..." groups text, spaces included, and may touch other text (`a"b c"d` is `ab cd`;
//     `""` is an empty argument);
//   - inside double quotes, \" is a quote and \\ a backslash; any other backslash is literal;
//   - outside double quotes every character other than whitespace and `"` is literal: single
//     quotes, backslashes, `$`, `;`, `|`, `*`, `~` have no meaning (no expansion of any kind);
//   - an unbalanced double quote, a NUL byte or an empty command is invalid_argument.
//
// The child: stdin /dev/null, stdout a pipe read here, stderr inherited. stderr is not captured:
// the SDK guide warns that tools must not print secrets there but cannot enforce it, and mskiam
// error messages travel to logs and metrics; inheriting keeps the tool's diagnostics visible to
// the operator, where a human runs the same tool by hand. The child runs in a process group of its
// own so that a timeout stops the whole group (a script and what it started): SIGTERM, then
// SIGKILL after a grace period, then it is reaped. No zombie is left behind on any path.
//
// POSIX only.
#pragma once

#if defined(_WIN32)
#error "mskiam/sources/process.hpp needs POSIX (posix_spawn)"
#endif

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE

// Go's default is 1 minute (processcreds.DefaultTimeout); 30 s keeps a stuck tool from holding a
// refresh for too long.
inline constexpr std::chrono::milliseconds process_default_timeout{std::chrono::seconds(30)};
// A credential document is ~2 KiB; a tool printing more is printing something else.
inline constexpr std::size_t process_default_max_output = 64 * 1024;
// Time between SIGTERM and SIGKILL when the program overstays its timeout.
inline constexpr std::chrono::milliseconds process_kill_grace{500};

class ProcessCredentials {
 public:
  static constexpr std::string_view source = "process";

  struct Options {
    std::string command;  // the credential_process line; split as described above
    std::chrono::milliseconds timeout = process_default_timeout;
    std::size_t max_output = process_default_max_output;  // bytes of stdout
  };

  // Splits the command line here, so that a malformed one fails when the source is built.
  explicit ProcessCredentials(Options options);

  Credentials fetch();
  std::string_view name() const noexcept { return source; }
  const std::vector<std::string>& argv() const noexcept { return argv_; }

 private:
  Options options_;
  std::vector<std::string> argv_;
};

namespace detail {
// The splitting rules of the header comment; throws invalid_argument naming `source`.
MSKIAM_INLINE std::vector<std::string> split_command_line(std::string_view line,
                                                          std::string_view source);
}  // namespace detail

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>
#include <utility>

#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/wipe.hpp"

extern char** environ;  // POSIX: the environment handed to the child

MSKIAM_BEGIN_NAMESPACE

namespace detail {

MSKIAM_INLINE std::vector<std::string> split_command_line(std::string_view line,
                                                          std::string_view source) {
  std::vector<std::string> args;
  std::string current;
  bool in_arg = false, in_quotes = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\0')
      throw Error(ErrorKind::invalid_argument, std::string(source),
                  "credential_process contains a NUL byte");
    if (in_quotes) {
      if (c == '"') {
        in_quotes = false;
      } else if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
        current += line[++i];
      } else {
        current += c;
      }
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_arg) args.push_back(std::move(current));
      current.clear();
      in_arg = false;
    } else if (c == '"') {
      in_quotes = true;
      in_arg = true;
    } else {
      current += c;
      in_arg = true;
    }
  }
  if (in_quotes)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "credential_process has an unbalanced double quote");
  if (in_arg) args.push_back(std::move(current));
  if (args.empty() || args.front().empty())
    throw Error(ErrorKind::invalid_argument, std::string(source), "credential_process is empty");
  return args;
}

// Owns the child until it is reaped: every path out of fetch() goes through try_reap() or stop().
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) stop();
  }

  // Stops the child's process group: SIGTERM, a grace period, SIGKILL; then reaps the child.
  // The child is reaped last: while it is a zombie its pid, which is also the group id, cannot
  // be reused, so the SIGKILL to the group cannot reach an unrelated process.
  void stop() noexcept {
    if (pid_ <= 0) return;
    // Never signal a pid that is no longer ours: with SIGCHLD ignored the kernel reaps the child
    // itself and the pid may already belong to another process.
    if (state() != State::gone) {
      signal_group(SIGTERM);
      const auto give_up = std::chrono::steady_clock::now() + process_kill_grace;
      State s = state();
      while (s == State::running && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        s = state();
      }
      // The child if it ignored SIGTERM, and whatever it started.
      if (s != State::gone) signal_group(SIGKILL);
    }
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // Waits for the exit until `deadline`; false when the child is still running then.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (try_reap()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  int status() const noexcept { return status_; }
  bool status_known() const noexcept { return status_known_; }

 private:
  bool try_reap() noexcept {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    if (r == pid_) {
      status_ = status;
      status_known_ = true;
    }
    // r < 0 (ECHILD): someone else reaped it (SIGCHLD ignored); the status is lost.
    pid_ = -1;
    return true;
  }
  void signal_group(int sig) noexcept {
    // The group id is the child's pid (POSIX_SPAWN_SETPGROUP, 0); signal the child itself too in
    // case the group was not created.
    ::kill(-pid_, sig);
    ::kill(pid_, sig);
  }

  enum class State { running, exited, gone };
  // Whether the child runs, has exited (a zombie: not reaped, so its pid stays ours), or is gone.
  State state() noexcept {
    siginfo_t info{};
    int r;
    do {
      r = waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return State::gone;
    return info.si_pid == pid_ ? State::exited : State::running;
  }

  pid_t pid_;
  int status_ = 0;
  bool status_known_ = false;
};

struct FileDescriptor {
  int fd = -1;
  FileDescriptor() = default;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace detail

MSKIAM_INLINE ProcessCredentials::ProcessCredentials(Options options)
    : options_(std::move(options)) {
  argv_ = detail::split_command_line(options_.command, source);
  if (options_.timeout <= std::chrono::milliseconds(0))
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "the credential_process timeout must be positive");
  if (options_.max_output == 0)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "the credential_process output limit must be positive");
}

namespace detail {
// The steps of ProcessCredentials::fetch. `quoted` names the program in errors (its arguments
// may be secret).

// Starts `argv` with stdin /dev/null and stdout `stdout_fd`, in a process group of its own, with
// the usual signals at their defaults.
MSKIAM_INLINE pid_t spawn_credential_process(const std::vector<std::string>& argv, int stdout_fd,
                                             const std::string& quoted) {
  const std::string src(ProcessCredentials::source);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (posix_spawn_file_actions_init(&actions) != 0)
    throw Error(ErrorKind::internal, src, "posix_spawn_file_actions_init failed");
  if (posix_spawnattr_init(&attr) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    throw Error(ErrorKind::internal, src, "posix_spawnattr_init failed");
  }
  // Both pipe ends are close-on-exec; the dup2 onto 1 is not.
  int setup = posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  if (setup == 0)
    setup = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  sigset_t mask, defaults;
  sigemptyset(&mask);
  sigemptyset(&defaults);
  // Signals the application ignores would stay ignored in the child (SIGPIPE often is).
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, sig);
  if (setup == 0) setup = posix_spawnattr_setsigmask(&attr, &mask);
  if (setup == 0) setup = posix_spawnattr_setsigdefault(&attr, &defaults);
  if (setup == 0) setup = posix_spawnattr_setpgroup(&attr, 0);
  if (setup == 0)
    setup = posix_spawnattr_setflags(
        &attr, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                  POSIX_SPAWN_SETSIGDEF));
  pid_t pid = -1;
  int spawned = setup;
  if (setup == 0)
    spawned = posix_spawnp(&pid, argv.front().c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0)
    throw Error(ErrorKind::process, src, "cannot start " + quoted + ": " + std::strerror(spawned));
  return pid;
}

// Everything the child prints until it closes stdout: at most `max_output` bytes, before
// `deadline`; the child is stopped on every failure.
MSKIAM_INLINE void read_child_output(ChildProcess& child, int fd, std::string& output,
                                     std::size_t max_output,
                                     std::chrono::steady_clock::time_point deadline,
                                     const std::string& quoted,
                                     const std::function<Error()>& timed_out) {
  const std::string src(ProcessCredentials::source);
  char buf[4096];
  const WipeOnExit wipe_buf{buf};
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) throw timed_out();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      child.stop();
      throw Error(ErrorKind::internal, src, std::string("poll failed: ") + std::strerror(err));
    }
    if (ready == 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int err = errno;
      child.stop();
      throw Error(ErrorKind::internal, src,
                  "reading the output of " + quoted + " failed: " + std::strerror(err));
    }
    if (n == 0) return;
    output.append(buf, static_cast<std::size_t>(n));
    if (output.size() > max_output) {
      child.stop();
      throw Error(ErrorKind::bad_document, src,
                  quoted + " printed more than " + std::to_string(max_output) +
                      " bytes and was stopped");
    }
  }
}

// Throws unless the reaped child exited with status 0.
MSKIAM_INLINE void check_exit_status(const ChildProcess& child, const std::string& quoted) {
  const std::string src(ProcessCredentials::source);
  if (!child.status_known())
    throw Error(ErrorKind::process, src,
                "cannot collect the exit status of " + quoted +
                    " (is SIGCHLD ignored in this application?)");
  const int status = child.status();
  if (WIFSIGNALED(status))
    throw Error(ErrorKind::process, src,
                quoted + " was killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ErrorKind::process, src,
                quoted + " exited with status " + std::to_string(WEXITSTATUS(status)),
                std::to_string(WEXITSTATUS(status)));
}

}  // namespace detail

MSKIAM_INLINE Credentials ProcessCredentials::fetch() {
  const std::string src(source);
  const std::string quoted = "credential_process \"" + argv_.front() + "\"";

  detail::FileDescriptor read_end, write_end;
  {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      const int err = errno;
      throw Error(ErrorKind::internal, src, std::string("pipe2 failed: ") + std::strerror(err));
    }
    read_end.fd = fds[0];
    write_end.fd = fds[1];
  }
  const pid_t pid = detail::spawn_credential_process(argv_, write_end.fd, quoted);
  write_end.reset();  // only the child writes: EOF comes when it (and its children) close stdout
  detail::ChildProcess child(pid);

  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  const auto timed_out = [&]() -> Error {
    child.stop();
    return Error(ErrorKind::timeout, src,
                 quoted + " did not finish within " + std::to_string(options_.timeout.count()) +
                     " ms and was stopped");
  };
  std::string output;
  const detail::WipeOnExit wipe_output{output};
  detail::read_child_output(child, read_end.fd, output, options_.max_output, deadline, quoted,
                            timed_out);
  read_end.reset();
  if (!child.wait_until(deadline)) throw timed_out();
  detail::check_exit_status(child, quoted);
  try {
    return detail::parse_credential_document(output, source, detail::DocumentKind::process);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::bad_document) throw;
    throw Error(ErrorKind::bad_document, src, "output of " + quoted + ": " + e.message());
  }
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
