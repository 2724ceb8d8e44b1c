#pragma once
// SessionPins: which worker holds each session's state (learned from the 201 answer to
// POST /v1/sessions). A session's state is a hard constraint, not a preference, so the proxy
// consults the pins before any policy: a pinned, eligible backend always gets its session's
// requests. Bounded (oldest pins forgotten first); a backend's pins go when it leaves the pool.
// Thread-safe (one mutex).

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dte::router {

class SessionPins {
 public:
  explicit SessionPins(size_t max_pins = 1u << 20) : max_pins_(max_pins) {}

  void Pin(std::string_view session_id, std::string_view url);
  std::optional<std::string> Find(std::string_view session_id) const;
  void ForgetBackend(std::string_view url);
  size_t size() const;

 private:
  const size_t max_pins_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> pins_;  // id -> url; guarded by mu_
  std::deque<std::string> order_;  // insertion order, for eviction; guarded by mu_
};

}  // namespace dte::router
