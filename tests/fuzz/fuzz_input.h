// How a fuzzer's bytes become frames: [count:u8] then count × [length:u16 LE][bytes]; a short
// input simply has fewer frames. Shared by the harnesses and the seed writer (make_seeds.cc).
#ifndef NEMESYST_TESTS_FUZZ_FUZZ_INPUT_H_
#define NEMESYST_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace nemesyst::fuzz {

inline std::vector<std::string_view> SplitFrames(const uint8_t* data, size_t size) {
  std::vector<std::string_view> frames;
  if (size == 0) return frames;
  size_t count = data[0], at = 1;
  for (size_t i = 0; i < count && at + 2 <= size; ++i) {
    const size_t n = std::min<size_t>(data[at] | (size_t{data[at + 1]} << 8), size - at - 2);
    frames.emplace_back(reinterpret_cast<const char*>(data + at + 2), n);
    at += 2 + n;
  }
  return frames;
}

inline std::string JoinFrames(const std::vector<std::string>& frames) {
  std::string out(1, static_cast<char>(frames.size()));
  for (const std::string& f : frames) {
    out.push_back(static_cast<char>(f.size() & 0xff));
    out.push_back(static_cast<char>((f.size() >> 8) & 0xff));
    out += f.substr(0, 0xffff);
  }
  return out;
}

}  // namespace nemesyst::fuzz

// An invariant of a harness: when it does not hold, says which and where, then aborts (libFuzzer
// keeps the input as a crash).
#define NEMESYST_FUZZ_CHECK(condition)                                                       \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

#endif  // NEMESYST_TESTS_FUZZ_FUZZ_INPUT_H_
