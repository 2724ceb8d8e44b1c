#include "telemetry/web_assets.h"

#include <fstream>
#include <sstream>

namespace dte {

std::string_view ContentTypeFor(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

Result<WebAsset> ReadWebAsset(const std::string& root_dir, std::string_view path) {
  if (path.empty() || path == "/") path = "/index.html";
  if (path.front() != '/') return Status::InvalidArgument("asset path must start with /");
  std::string_view rel = path.substr(1);
  for (char c : rel) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) return Status::InvalidArgument("unexpected character in asset path");
  }
  // Each segment must be non-empty and must not start with '.' (no "..", no hidden files).
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string_view segment =
        rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty() || segment.front() == '.')
      return Status::InvalidArgument("invalid asset path");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string file = root_dir + "/" + std::string(rel);
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("no dashboard file " + std::string(rel));
  std::stringstream ss;
  ss << in.rdbuf();
  return WebAsset{std::string(ContentTypeFor(rel)), ss.str()};
}

}  // namespace dte
