// How a number is printed for people, and in the text formats made for them: reports, plots,
// error messages, prediction files and the status page.
#ifndef NEMESYST_COMMON_NUMBER_FORMAT_H_
#define NEMESYST_COMMON_NUMBER_FORMAT_H_

#include <cstdio>
#include <string>

namespace nemesyst {

// `v` with `digits` decimals ("%.*f"), whole whatever its magnitude (1e300 has 301 digits).
inline std::string Fixed(double v, int digits) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  if (n < static_cast<int>(sizeof(buf))) return buf;
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", digits, v);
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace nemesyst

#endif  // NEMESYST_COMMON_NUMBER_FORMAT_H_
