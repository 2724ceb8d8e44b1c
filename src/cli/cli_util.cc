#include "cli/cli_util.h"

#include <charconv>
#include <cstdio>

namespace dte::cli {

int Fail(const std::string& command, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", command.c_str(), status.ToString().c_str());
  return 1;
}

Result<std::vector<int32_t>> ParseTokenList(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    int32_t id = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size())
      return Status::InvalidArgument("'" + item + "' in the token list is not an integer token id");
    ids.push_back(id);
    pos = end + 1;
  }
  return ids;
}

Status CheckTokenIds(const std::vector<int32_t>& ids, int64_t n_vocab) {
  for (int32_t id : ids)
    if (id < 0 || id >= n_vocab)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the model's vocabulary [0, " +
                                     std::to_string(n_vocab) + ")");
  return Status::Ok();
}

std::string ExactFloat(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace dte::cli
