// Reading a small file whole: a token file, a shared config file. Regular files only (a FIFO or
// a device could block or never end), at most a limit, with errors that name the file and never
// its content; the read buffer is wiped, as a file may hold a token.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "mskiam/detail/wipe.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

struct SmallFile {
  std::string content;  // at most `limit` bytes (the first ones when `larger`); wipe it after use
  bool larger = false;  // the file holds more than `limit` bytes
};

// Throws io naming `source` and `<what> <path>`; a file that does not exist is nullopt when
// `absent_ok`, else an error like any other.
inline std::optional<SmallFile> read_small_file(const std::string& path, std::size_t limit,
                                                std::string_view source, std::string_view what,
                                                bool absent_ok = false) {
  const auto fail = [&](const std::string& why, int err = 0) {
    throw Error(ErrorKind::io, std::string(source),
                (what.empty() ? "" : std::string(what) + " ") + path + ": " + why +
                    (err != 0 ? ": " + std::generic_category().message(err) : ""));
  };
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block here
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && absent_ok && (errno == ENOENT || errno == ENOTDIR)) return std::nullopt;
  if (fd < 0) fail("cannot open", errno);
  const struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot stat", errno);
  if (!S_ISREG(st.st_mode)) fail("not a regular file");

  SmallFile file;
  file.content.reserve(std::min(static_cast<std::size_t>(st.st_size), limit));
  char buffer[8192];
  const WipeOnExit wipe_buffer{buffer};
  while (!file.larger) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      cleanse(file.content);
      fail("cannot read", err);
    }
    if (n == 0) break;
    const std::size_t room = limit - file.content.size();
    file.content.append(buffer, std::min(static_cast<std::size_t>(n), room));
    file.larger = static_cast<std::size_t>(n) > room;
  }
  return file;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
