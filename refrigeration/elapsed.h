// Wall time spent, for the timings the demo and the evaluation report.
#ifndef NEMESYST_REFRIGERATION_ELAPSED_H_
#define NEMESYST_REFRIGERATION_ELAPSED_H_

#include <chrono>

namespace nemesyst::refrigeration {

// Seconds from `start` to now on the steady clock.
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_ELAPSED_H_
