#include "router/session_pins.h"

namespace dte::router {

void SessionPins::Pin(std::string_view session_id, std::string_view url) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = pins_.insert_or_assign(std::string(session_id), std::string(url));
  if (inserted) order_.push_back(it->first);
  while (pins_.size() > max_pins_ && !order_.empty()) {
    pins_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string> SessionPins::Find(std::string_view session_id) const {
  std::lock_guard lock(mu_);
  auto it = pins_.find(std::string(session_id));
  if (it == pins_.end()) return std::nullopt;
  return it->second;
}

void SessionPins::ForgetBackend(std::string_view url) {
  std::lock_guard lock(mu_);
  std::erase_if(pins_, [&](const auto& kv) { return kv.second == url; });
  std::erase_if(order_, [&](const std::string& id) { return !pins_.contains(id); });
}

size_t SessionPins::size() const {
  std::lock_guard lock(mu_);
  return pins_.size();
}

}  // namespace dte::router
