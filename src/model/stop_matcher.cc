#include "model/stop_matcher.h"

#include <algorithm>
#include <utility>

namespace dte {
namespace {

// Initial room for the bytes of one token plus a held-back suffix; grows (rarely) if exceeded.
constexpr size_t kReserveBytes = 256;

}  // namespace

StopMatcher::StopMatcher(std::vector<int32_t> stop_tokens, std::vector<std::string> stop_strings)
    : stop_tokens_(std::move(stop_tokens)) {
  for (std::string& s : stop_strings) {
    if (s.empty()) continue;
    max_stop_len_ = std::max(max_stop_len_, s.size());
    stop_strings_.push_back(std::move(s));
  }
  pending_.reserve(max_stop_len_ + kReserveBytes);
  out_.reserve(max_stop_len_ + kReserveBytes + 16);
}

Status StopMatcher::Validate(std::span<const std::string> stop_strings) {
  for (size_t i = 0; i < stop_strings.size(); ++i) {
    if (stop_strings[i].empty()) {
      return Status::InvalidArgument("stop[" + std::to_string(i) + "] is an empty string");
    }
  }
  return Status::Ok();
}

bool StopMatcher::IsStopToken(int32_t token) const {
  return std::find(stop_tokens_.begin(), stop_tokens_.end(), token) != stop_tokens_.end();
}

size_t StopMatcher::FindStopString(int* which) const {
  size_t best = std::string::npos;
  for (size_t k = 0; k < stop_strings_.size(); ++k) {
    const size_t pos = pending_.find(stop_strings_[k]);
    if (pos < best) {
      best = pos;
      *which = static_cast<int>(k);
    }
  }
  return best;
}

// Everything before the returned position can never be part of a stop string: a stop string
// starting there would already have matched or would not fit the bytes that follow.
size_t StopMatcher::HoldBackStart() const {
  const std::string_view pending = pending_;
  const size_t n = pending.size();
  const size_t first = n >= max_stop_len_ ? n - max_stop_len_ + 1 : 0;
  for (size_t p = first; p < n; ++p) {
    const std::string_view tail = pending.substr(p);
    for (const std::string& stop : stop_strings_) {
      if (std::string_view(stop).starts_with(tail)) return p;
    }
  }
  return n;
}

void StopMatcher::Release(size_t end, bool final) {
  utf8_.Append(std::string_view(pending_).substr(0, end), &out_);
  if (final) {
    utf8_.Flush(&out_);
    pending_.clear();
  } else {
    pending_.erase(0, end);
  }
}

StopStep StopMatcher::Feed(int32_t token, std::string_view bytes) {
  out_.clear();
  if (stopped_) return {out_, true, StopReason::kNone};
  if (IsStopToken(token)) {
    stopped_ = true;
    Release(pending_.size(), /*final=*/true);
    return {out_, true, StopReason::kToken, token};
  }
  pending_.append(bytes);
  int which = -1;
  const size_t stop_at = FindStopString(&which);
  if (stop_at != std::string::npos) {
    stopped_ = true;
    Release(stop_at, /*final=*/true);
    return {out_, true, StopReason::kString, -1, which};
  }
  Release(HoldBackStart(), /*final=*/false);
  return {out_};
}

StopStep StopMatcher::Finish() {
  out_.clear();
  if (stopped_) return {out_, true, StopReason::kNone};
  Release(pending_.size(), /*final=*/true);
  return {out_};
}

void StopMatcher::Reset() {
  pending_.clear();
  out_.clear();
  utf8_.Reset();
  stopped_ = false;
}

}  // namespace dte
