// Status and Result<T>: how every Nemesyst function reports failure.
//
// Rules (after leveldb/duckdb):
//  - Errors are values. No exception crosses a public function; code that calls into throwing
//    libraries (toml++, the nlohmann JSON parser, std::stoi ...) catches at the boundary.
//  - An OK Status is a null pointer: constructing, copying, moving and testing it costs nothing.
//  - Not-found and would-block are ordinary outcomes with their own codes; callers branch on them.
//  - `assert` is only for programmer errors, never for bad input.
// Thread-safety: Status and Result are values; distinct objects may be used from distinct threads.
#ifndef NEMESYST_STATUS_H_
#define NEMESYST_STATUS_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "nemesyst/export.h"

namespace nemesyst {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // the caller's input is wrong (bad flag, schema violation, bad spec)
  kNotFound = 2,            // an ordinary outcome: no such stream / model / alias / key
  kAlreadyExists = 3,       // creating something that is there already
  kCorruption = 4,          // stored or received bytes fail their checksum or do not parse
  kIOError = 5,             // the operating system or RocksDB failed to read or write
  kFailedPrecondition = 6,  // the system is not in a state to do this (e.g. lease expired)
  kOutOfRange = 7,          // a position or value beyond what exists
  kResourceExhausted = 8,   // a size or count limit
  kWouldBlock = 9,          // an ordinary outcome: nothing available now, try later
  kAborted = 10,            // a concurrent change won; retrying may succeed
  kDeadlineExceeded = 11,   // a timeout
  kUnimplemented = 12,      // not supported by this build or backend
  kInternal = 13,           // a bug: an invariant does not hold
  kPermissionDenied = 14,   // the caller is known but its role may not do this
};

// Stable lower-case name of a code ("not_found"), used in messages and JSON output.
NEMESYST_EXPORT std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] NEMESYST_EXPORT Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string_view message);
  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string_view msg) {
    return {StatusCode::kInvalidArgument, msg};
  }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status AlreadyExists(std::string_view msg) { return {StatusCode::kAlreadyExists, msg}; }
  static Status Corruption(std::string_view msg) { return {StatusCode::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {StatusCode::kIOError, msg}; }
  static Status FailedPrecondition(std::string_view msg) {
    return {StatusCode::kFailedPrecondition, msg};
  }
  static Status OutOfRange(std::string_view msg) { return {StatusCode::kOutOfRange, msg}; }
  static Status ResourceExhausted(std::string_view msg) {
    return {StatusCode::kResourceExhausted, msg};
  }
  static Status WouldBlock(std::string_view msg) { return {StatusCode::kWouldBlock, msg}; }
  static Status Aborted(std::string_view msg) { return {StatusCode::kAborted, msg}; }
  static Status DeadlineExceeded(std::string_view msg) {
    return {StatusCode::kDeadlineExceeded, msg};
  }
  static Status Unimplemented(std::string_view msg) { return {StatusCode::kUnimplemented, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }
  static Status PermissionDenied(std::string_view msg) {
    return {StatusCode::kPermissionDenied, msg};
  }

  bool ok() const noexcept { return rep_ == nullptr; }
  StatusCode code() const noexcept { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  std::string_view message() const noexcept {
    return rep_ ? std::string_view(rep_->message) : std::string_view();
  }
  bool IsNotFound() const noexcept { return code() == StatusCode::kNotFound; }
  bool IsWouldBlock() const noexcept { return code() == StatusCode::kWouldBlock; }
  bool IsCorruption() const noexcept { return code() == StatusCode::kCorruption; }
  bool IsInvalidArgument() const noexcept { return code() == StatusCode::kInvalidArgument; }

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK. Used to add the file,
  // line or peer as an error travels up.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status the caller has decided not to act on.
  void IgnoreError() const noexcept {}

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

inline bool operator==(const Status& a, const Status& b) {
  return a.code() == b.code() && a.message() == b.message();
}

// Result<T>: a T or a non-OK Status. Reading the value of an error (value(), *, ->) is a
// programmer error: it aborts the process, in every build type, rather than read an empty value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK Status");
  }

  bool ok() const noexcept { return status_.ok(); }
  const Status& status() const& noexcept { return status_; }
  Status status() && { return std::move(status_); }

  T& value() & { return Checked(); }
  const T& value() const& { return Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return Checked(); }

  // The value if OK, otherwise `fallback`.
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  T& Checked() {
    if (!value_.has_value()) [[unlikely]]
      std::abort();
    return *value_;
  }
  const T& Checked() const {
    if (!value_.has_value()) [[unlikely]]
      std::abort();
    return *value_;
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace nemesyst

#define NEMESYST_CONCAT_INNER_(a, b) a##b
#define NEMESYST_CONCAT_(a, b) NEMESYST_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status); returns it from the calling function if it is not OK.
#define NEMESYST_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::nemesyst::Status nemesyst_status_ = (expr);        \
    if (!nemesyst_status_.ok()) return nemesyst_status_; \
  } while (0)

// `lhs` = value of `rexpr` (a Result<T>), or returns its Status from the calling function.
// `lhs` may be a declaration: NEMESYST_ASSIGN_OR_RETURN(auto rows, ParseRows(text));
#define NEMESYST_ASSIGN_OR_RETURN(lhs, rexpr) \
  NEMESYST_ASSIGN_OR_RETURN_IMPL_(NEMESYST_CONCAT_(nemesyst_result_, __LINE__), lhs, rexpr)
#define NEMESYST_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                    \
  if (!result.ok()) return std::move(result).status();      \
  lhs = std::move(result).value()

#endif  // NEMESYST_STATUS_H_
