#include "http/router.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace dte::http {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}. `path` starts with '/'.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  for (;;) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

Router& Router::Add(std::string method, std::string_view pattern, Handler handler) {
  DTE_CHECK(!method.empty(), "route method is empty");
  DTE_CHECK(!pattern.empty() && pattern.front() == '/',
            "route pattern must start with '/': " + std::string(pattern));
  DTE_CHECK(handler != nullptr, "route has no handler: " + std::string(pattern));
  Route route{std::move(method), std::string(pattern), {}, std::move(handler)};
  for (std::string_view part : SplitPath(pattern)) {
    Segment seg;
    if (!part.empty() && part.front() == '{') {
      DTE_CHECK(part.size() > 2 && part.back() == '}',
                "malformed placeholder in route pattern: " + std::string(pattern));
      seg.text = std::string(part.substr(1, part.size() - 2));
      seg.is_param = true;
    } else {
      seg.text = std::string(part);
    }
    DTE_CHECK(seg.text.find_first_of("{}") == std::string::npos,
              "stray brace in route pattern: " + std::string(pattern));
    route.segments.push_back(std::move(seg));
  }
  for (const Route& r : routes_) {
    DTE_CHECK(!(r.method == route.method && r.pattern == route.pattern),
              "duplicate route: " + route.method + " " + route.pattern);
  }
  routes_.push_back(std::move(route));
  return *this;
}

bool Router::MatchPath(const Route& route, const std::vector<std::string_view>& parts,
                       PathParams* params) {
  if (route.segments.size() != parts.size()) return false;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (!seg.is_param) {
      if (seg.text != parts[i]) return false;
      continue;
    }
    if (parts[i].empty()) return false;
    auto decoded = PercentDecode(parts[i], /*plus_is_space=*/false);
    if (!decoded) return false;
    params->emplace_back(seg.text, std::move(*decoded));
  }
  return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  if (path.empty() || path.front() != '/') return match;
  std::vector<std::string_view> parts = SplitPath(path);
  const Route* best = nullptr;
  PathParams params;
  std::vector<std::string_view> allowed;
  for (const Route& route : routes_) {
    if (!MatchPath(route, parts, &params)) continue;
    if (route.method != method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
        allowed.push_back(route.method);
      }
      continue;
    }
    if (best == nullptr || MoreSpecific(route, *best)) {
      best = &route;
      match.params = std::move(params);
    }
  }
  if (best != nullptr) {
    match.kind = Match::Kind::kFound;
    match.handler = &best->handler;
    return match;
  }
  if (!allowed.empty()) {
    match.kind = Match::Kind::kMethodNotAllowed;
    for (std::string_view m : allowed) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += m;
    }
  }
  return match;
}

std::vector<std::string> Router::Describe() const {
  std::vector<std::string> lines;
  lines.reserve(routes_.size());
  for (const Route& r : routes_) lines.push_back(r.method + " " + r.pattern);
  return lines;
}

}  // namespace dte::http
