#pragma once
// Serves the static dashboard files (web/dashboard) for the router's GET /dashboard and
// GET /dashboard/<file>: maps a request path to a file under a root directory, refusing
// anything that could escape it, and names its content type. Files are read on each request
// (small, rarely fetched), so editing the dashboard needs no rebuild.
//
// Threading: stateless and reentrant.

#include <string>
#include <string_view>

#include "base/status.h"

namespace dte {

struct WebAsset {
  std::string content_type;
  std::string body;
};

// `path` is the part after "/dashboard" ("", "/", "/index.html", "/dashboard.js", ...); "" and
// "/" give index.html. NotFound for missing files; InvalidArgument for "..", "//", hidden files
// or characters outside [A-Za-z0-9._-/].
Result<WebAsset> ReadWebAsset(const std::string& root_dir, std::string_view path);

std::string_view ContentTypeFor(std::string_view file_name);

}  // namespace dte
