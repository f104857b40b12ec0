// ScopeExit: runs a callable when the scope ends, however it ends (the NEMESYST_RETURN_IF_ERROR
// early returns included). For clean-up that must happen on every failure path of a long function.
#pragma once

#include <utility>

namespace nemesyst {

template <class F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F f_;
};

}  // namespace nemesyst
