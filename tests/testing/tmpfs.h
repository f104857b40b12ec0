// A small tmpfs mounted on a fresh directory for one test: a real full disk (ENOSPC from the
// kernel), unmounted when the object goes out of scope. Needs root (CI runs as root); where the
// mount is refused, `error()` says why and the test skips itself with that message.
#ifndef NEMESYST_TESTS_TESTING_TMPFS_H_
#define NEMESYST_TESTS_TESTING_TMPFS_H_

#include <cstdint>
#include <string>

#include "tests/testing/temp_dir.h"

namespace nemesyst::testing {

class Tmpfs {
 public:
  explicit Tmpfs(uint64_t bytes);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string Sub(const std::string& name) const { return dir_.Sub(name); }
  // Grows (or shrinks) the filesystem in place: "freeing space" without deleting anything.
  bool Resize(uint64_t bytes);
  // Writes zeros to `path` until the filesystem refuses (ENOSPC); returns the bytes written.
  uint64_t FillWith(const std::string& path) const;

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_TMPFS_H_
