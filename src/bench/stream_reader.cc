#include "bench/stream_reader.h"

#include <nlohmann/json.hpp>

namespace dte::bench {
namespace {

using json = nlohmann::json;

size_t TextBytes(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get_ref<const std::string&>().size() : 0;
}

}  // namespace

std::vector<std::string> SseParser::Feed(std::string_view bytes) {
  std::vector<std::string> out;
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {  // the "\n" of a "\r\n" already ended its line
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      EndLine(out);
    } else {
      line_.push_back(c);
    }
  }
  return out;
}

void SseParser::EndLine(std::vector<std::string>& out) {
  if (line_.empty()) {  // a blank line dispatches the event
    if (has_data_) out.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  std::string_view line(line_);
  if (line.starts_with("data:")) {
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
    if (has_data_) data_.push_back('\n');
    data_.append(line);
    has_data_ = true;
  }  // comments (":...") and other fields (event:, id:, retry:) do not matter here
  line_.clear();
}

ChunkInfo ParseChunk(std::string_view payload) {
  ChunkInfo info;
  if (payload == "[DONE]") {
    info.done = true;
    return info;
  }
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    info.malformed = true;
    return info;
  }
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
    auto m = e->is_object() ? e->find("message") : e->end();
    info.error = m != e->end() && m->is_string() ? m->get<std::string>() : e->dump();
  }
  if (auto c = j.find("choices"); c != j.end() && c->is_array()) {
    for (const json& choice : *c) {
      if (!choice.is_object()) continue;
      info.content_bytes += TextBytes(choice, "text");
      if (auto d = choice.find("delta"); d != choice.end() && d->is_object())
        info.content_bytes += TextBytes(*d, "content");
      if (auto m = choice.find("message"); m != choice.end() && m->is_object())
        info.content_bytes += TextBytes(*m, "content");
    }
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    if (auto t = u->find("completion_tokens"); t != u->end() && t->is_number_integer())
      info.completion_tokens = t->get<int64_t>();
  }
  return info;
}

}  // namespace dte::bench
