#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nemesyst {

Result<int> OpenInputFile(const std::string& path, std::string_view what) {
  const std::string named = std::string(what) + " '" + path + "'";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::NotFound("no " + named);
    return Status::IOError("cannot open " + named + ": " + std::strerror(error));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return Status::IOError("cannot stat " + named + ": " + std::strerror(error));
  }
  // FIFOs and character devices stream fine (a pipe from another program); a directory does not.
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(named + " is a directory, not a file");
  }
  return fd;
}

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  NEMESYST_ASSIGN_OR_RETURN(const int fd, OpenInputFile(path, what));
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return Status::IOError("cannot read " + std::string(what) + " '" + path +
                             "': " + std::strerror(error));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace nemesyst
