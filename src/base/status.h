#pragma once
// Errors as values (leveldb-style). Core code returns Status / Result<T>; exactly one place
// (the HTTP layer) turns them into error JSON. Status is cheap to copy when ok (no allocation).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace dte {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller passed something malformed
  kNotFound,          // a file, tensor, session... does not exist
  kCorrupt,           // a file exists but its bytes are not what its format promises
  kUnsupported,       // valid input we do not handle (a dtype, a version)
  kIoError,           // the operating system failed us
  kOutOfRange,        // an index or size past a limit
  kResourceExhausted, // queue full, budget spent
  kUnavailable,       // draining, backend down
  kConflict,          // the target is busy or in a conflicting state (a session in use)
  kInternal,          // a bug of ours
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "Corrupt: <message>", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "<prefix>: <message>" (same code); ok stays ok.
  Status WithPrefix(std::string_view prefix) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

// A value or the Status explaining why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    DTE_CHECK(!std::get<Status>(v_).ok(), "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { CheckOk(); return std::get<T>(v_); }
  const T& value() const& { CheckOk(); return std::get<T>(v_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const { DTE_CHECK(ok(), "Result::value() on error: " + std::get<Status>(v_).ToString()); }
  std::variant<T, Status> v_;
};

}  // namespace dte

#define DTE_CONCAT_INNER(a, b) a##b
#define DTE_CONCAT(a, b) DTE_CONCAT_INNER(a, b)

#define DTE_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::dte::Status dte_status_ = (expr);      \
    if (!dte_status_.ok()) return dte_status_; \
  } while (0)

#define DTE_ASSIGN_OR_RETURN(lhs, expr) \
  DTE_ASSIGN_OR_RETURN_IMPL(DTE_CONCAT(dte_result_, __LINE__), lhs, expr)
#define DTE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
