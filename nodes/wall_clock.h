// The wall clock nodes stamp their messages and journals with.
#ifndef NEMESYST_NODES_WALL_CLOCK_H_
#define NEMESYST_NODES_WALL_CLOCK_H_

#include <cstdint>

namespace nemesyst::nodes {

// Microseconds since the Unix epoch (the system clock: comparable across processes and hosts,
// not monotonic — callers measure ages with it, never intervals they depend on). Thread-safe.
int64_t NowMicros();

}  // namespace nemesyst::nodes

#endif  // NEMESYST_NODES_WALL_CLOCK_H_
