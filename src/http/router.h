#pragma once
// Router: routes as data. Each route is a method, a path pattern and a handler; a pattern is
// an absolute path whose segments are literals or `{name}` placeholders, e.g.
// "/v1/sessions/{id}". Find() resolves a request to a handler (with its path params), to
// "not found" (no pattern matches the path) or to "method not allowed" (some pattern matches,
// none with this method; `allow` lists the methods that would). When several patterns match,
// a literal segment beats a placeholder at the first place they differ, so "/v1/sessions/stats"
// wins over "/v1/sessions/{id}". Paths match exactly: "/a/" is not "/a".
// Build the router before the server starts; afterwards it is read-only and any thread may
// call Find().

#include <string>
#include <string_view>
#include <vector>

#include "http/handler.h"
#include "http/headers.h"

namespace dte::http {

class Router {
 public:
  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    const Handler* handler = nullptr;  // points into the router; set when kFound
    PathParams params;                 // set when kFound
    std::string allow;                 // e.g. "GET, DELETE"; set when kMethodNotAllowed
  };

  // Adds a route. A malformed pattern (not starting with '/', an unclosed or empty `{}`) or a
  // repeated (method, pattern) is a programming error and CHECK-fails.
  Router& Add(std::string method, std::string_view pattern, Handler handler);
  Router& Get(std::string_view pattern, Handler h) { return Add("GET", pattern, std::move(h)); }
  Router& Post(std::string_view pattern, Handler h) { return Add("POST", pattern, std::move(h)); }
  Router& Delete(std::string_view pattern, Handler h) {
    return Add("DELETE", pattern, std::move(h));
  }

  // `path` is the raw path of the request (no query string); captured segments are
  // percent-decoded. A segment with a malformed escape does not match a placeholder.
  Match Find(std::string_view method, std::string_view path) const;

  // "GET /v1/models" lines in the order the routes were added (for logs and docs).
  std::vector<std::string> Describe() const;

 private:
  struct Segment {
    std::string text;  // the literal, or the placeholder's name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  // Fills `params` and returns true when `parts` (the path's segments) fit the route.
  static bool MatchPath(const Route& route, const std::vector<std::string_view>& parts,
                        PathParams* params);
  // True when `a` is more specific than `b` (both matched the same path).
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace dte::http
