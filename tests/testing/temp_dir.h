// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it when the
// object goes out of scope (unless NEMESYST_KEEP_TEST_DIRS is set, for post-mortems).
#ifndef NEMESYST_TESTS_TESTING_TEMP_DIR_H_
#define NEMESYST_TESTS_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace nemesyst::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string.
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `contents` to `path` (binary), creating or truncating it. Aborts the test on failure.
void WriteFile(const std::string& path, const std::string& contents);
std::string ReadFile(const std::string& path);

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_TEMP_DIR_H_
