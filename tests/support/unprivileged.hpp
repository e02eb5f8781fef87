// Runs a piece of a test without root's privileges, so that a file mode of 0000 means what it
// means to a user: root reads anything, and a test of an unreadable file that runs as root (as CI
// does) would otherwise have to skip. Header-only, C++17, POSIX.
//
//   const std::string what = mskiam_test::unprivileged([&] { return read_something(); });
//   CHECK(mskiam_test::unprivileged_error_of([&] { source.fetch(); }) == "io: ...");
//
// As root, `attempt` runs in a forked child that has dropped to nobody (uid and gid 65534, no
// supplementary groups); what it returns comes back through a pipe. Otherwise it runs in place.
// `attempt` must not use Catch2's assertions (they would not reach the parent): return what to check.
//
//   mskiam_test::without_new_threads([&] { ...; return std::string("ok"); });
//
// runs `attempt` where creating a thread fails, whenever it is tried (as root only; see below).
#pragma once

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mskiam/error.hpp"

namespace mskiam_test {

inline constexpr uid_t kNobody = 65534;

// A directory an unprivileged user may enter (not list): mkdtemp makes 0700 ones, which would
// refuse the path before the file's own mode is ever checked.
inline void let_unprivileged_enter(const std::string& dir) {
  if (::chmod(dir.c_str(), 0711) != 0) throw std::runtime_error("chmod " + dir + ": " + std::strerror(errno));
}

// Runs `attempt` in a forked child as `uid` (and the same gid), and with `max_tasks` as its user's
// RLIMIT_NPROC when that is not 0; returns what `attempt` returned, throws when it failed.
template <class Attempt>
std::string in_child_as(uid_t uid, rlim_t max_tasks, Attempt attempt) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(pipe_fds[0]);
    int status = 0;
    std::string out;
    const struct rlimit tasks = {max_tasks, max_tasks};
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
        ::setresuid(uid, uid, uid) != 0 || ::geteuid() != uid ||
        (max_tasks != 0 && ::setrlimit(RLIMIT_NPROC, &tasks) != 0)) {
      out = std::string("cannot drop root: ") + std::strerror(errno);
      status = 2;
    } else {
      try {
        out = attempt();
      } catch (const std::exception& e) {
        out = std::string("attempt threw: ") + e.what();
        status = 3;
      }
    }
    for (std::size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(pipe_fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(status);  // no atexit handlers, no destructors of the parent's objects
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("unprivileged child failed (status " + std::to_string(status) + "): " + out);
  return out;
}

template <class Attempt>
std::string unprivileged(Attempt attempt) {
  if (::geteuid() != 0) return attempt();
  return in_child_as(kNobody, 0, attempt);
}

// True where without_new_threads() can watch: as root (to run as a user of its own), and not
// under ThreadSanitizer, whose runtime refuses a thread started after fork in its own way.
inline bool can_forbid_new_threads() {
#if defined(__SANITIZE_THREAD__)
  return false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return false;
#endif
#endif
  return ::geteuid() == 0;
}

// Runs `attempt` in a child that is the only task of a user id nobody else has, with that user's
// RLIMIT_NPROC at 1: any thread `attempt` tries to create, at any time and however short-lived,
// fails to start (std::thread throws, pthread_create returns EAGAIN). Only where
// can_forbid_new_threads().
template <class Attempt>
std::string without_new_threads(Attempt attempt) {
  const uid_t own_user = 3'000'000 + static_cast<uid_t>(::getpid() % 1'000'000);
  return in_child_as(own_user, 1, attempt);
}

// The mskiam::Error that `f` throws when run unprivileged, as "<kind>: <what>"; "no error" if none.
template <class F>
std::string unprivileged_error_of(F f) {
  return unprivileged([&] {
    try {
      f();
    } catch (const mskiam::Error& e) {
      return std::string(mskiam::to_string(e.kind())) + ": " + e.what();
    }
    return std::string("no error");
  });
}

}  // namespace mskiam_test
