#include "tests/testing/tmpfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace nemesyst::testing {

Tmpfs::Tmpfs(uint64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes);
  if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
    error_ = "cannot mount a tmpfs on " + dir_.path().string() + ": " + std::strerror(errno) +
             " (the disk-full tests need root)";
    return;
  }
  mounted_ = true;
}

Tmpfs::~Tmpfs() {
  // Lazy: a child that still has a file open must not keep the test from ending.
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

bool Tmpfs::Resize(uint64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes);
  return ::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
}

uint64_t Tmpfs::FillWith(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<char> zeros(4096, 0);
  uint64_t written = 0;
  for (;;) {
    const ssize_t n = ::write(fd, zeros.data(), zeros.size());
    if (n <= 0) break;
    written += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return written;
}

}  // namespace nemesyst::testing
