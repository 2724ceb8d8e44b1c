#include "bench/target.h"

#include <arpa/inet.h>

#include <charconv>

namespace dte::bench {

std::string Target::Url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + api_root;
}

Result<Target> ParseTarget(std::string_view url) {
  const std::string original(url);
  if (!url.starts_with("http://")) {
    return Status::InvalidArgument("'" + original + "': only http:// URLs are supported");
  }
  url.remove_prefix(7);
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
  Target t;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidArgument("'" + original + "': unclosed '['");
    t.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':'))
      return Status::InvalidArgument("'" + original + "': bad host");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    const size_t colon = authority.find(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (t.host.empty()) return Status::InvalidArgument("'" + original + "': no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return Status::InvalidArgument("'" + original + "': bad port");
    t.port = static_cast<uint16_t>(port);
  }
  if (path.find_first_of("?#") != std::string_view::npos)
    return Status::InvalidArgument("'" + original + "': no query or fragment, please");
  while (path.ends_with('/')) path.remove_suffix(1);
  t.api_root = std::string(path);
  if (!path.ends_with("/v1")) t.api_root += "/v1";
  return t;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  const std::string h(host);
  return inet_pton(AF_INET, h.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Result<Target> ResolveTarget(std::string_view url, bool allow_remote) {
  Result<Target> t = ParseTarget(url);
  if (!t.ok()) return t;
  if (!allow_remote && !IsLoopbackHost(t->host)) {
    return Status::InvalidArgument("'" + t->host +
                                   "' is not a loopback address; pass --allow-remote to load "
                                   "a remote server");
  }
  return t;
}

}  // namespace dte::bench
