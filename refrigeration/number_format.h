// How the case study prints a number for people: reports, plots and error messages.
#ifndef NEMESYST_REFRIGERATION_NUMBER_FORMAT_H_
#define NEMESYST_REFRIGERATION_NUMBER_FORMAT_H_

#include <cstdio>
#include <string>

namespace nemesyst::refrigeration {

// `v` with `digits` decimals ("%.*f").
inline std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_NUMBER_FORMAT_H_
