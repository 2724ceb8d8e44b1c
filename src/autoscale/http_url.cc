#include "autoscale/http_url.h"

#include <charconv>

namespace dte::autoscale {

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  const std::string original(url);
  if (url.starts_with("https://"))
    return Status::Unsupported("'" + original +
                               "': https is not supported by the HTTP client (no TLS); use a "
                               "plain http:// endpoint such as `kubectl proxy`");
  if (url.starts_with("http://")) url.remove_prefix(7);
  if (url.find("://") != std::string_view::npos)
    return Status::InvalidArgument("'" + original + "': only http:// URLs are supported");
  HttpUrl out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidArgument("'" + original + "': bad IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Status::InvalidArgument("'" + original + "': bad port");
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::InvalidArgument("'" + original + "': no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return Status::InvalidArgument("'" + original + "': bad port");
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

}  // namespace dte::autoscale
