#include "server/chat_template.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"

namespace dte::server {
namespace {

// Normalizes line ends and folds blank lines so a message cannot contain the turn separator.
std::string Clean(std::string text, const std::string& separator) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i]);
  }
  if (!separator.empty()) {
    const std::string shorter = separator.substr(0, separator.size() - 1);
    for (size_t pos; !shorter.empty() && (pos = out.find(separator)) != std::string::npos;)
      out.replace(pos, separator.size(), shorter);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  size_t start = out.find_first_not_of(" \n");
  return start == std::string::npos ? "" : out.substr(start);
}

}  // namespace

std::string ChatTemplate::Render(const std::vector<ChatMessage>& messages, bool continuing_without_separator) const {
  std::string out;
  for (const std::string& piece : RenderPieces(messages, continuing_without_separator))
    out += piece;
  return out;
}

std::vector<std::string> ChatTemplate::RenderPieces(const std::vector<ChatMessage>& messages,
                                                    bool continuing_without_separator) const {
  std::vector<std::string> pieces;
  std::string lead = continuing_without_separator ? separator : "";
  for (const ChatMessage& m : messages) {
    const std::string& prefix =
        m.role == "system" ? system_prefix : m.role == "assistant" ? assistant_prefix : user_prefix;
    pieces.push_back(lead + prefix + Clean(m.content, separator) + separator);
    lead.clear();
  }
  pieces.push_back(lead + generation_prompt);
  return pieces;
}

std::string ChatTemplate::RenderSystem(const std::string& system_prompt) const {
  return system_prefix + Clean(system_prompt, separator) + separator;
}

bool ChatTemplate::GenerationPromptStartsReplies(const Tokenizer& tokenizer) const {
  const std::vector<int32_t> prompt = tokenizer.Encode(generation_prompt);
  const std::vector<int32_t> reply = tokenizer.Encode(assistant_prefix + "Sure");
  return !prompt.empty() && reply.size() > prompt.size() &&
         std::equal(prompt.begin(), prompt.end(), reply.begin());
}

Result<ChatTemplate> ChatTemplate::FromJsonFile(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  ChatTemplate t;
  for (auto [name, field] : {std::pair{"system_prefix", &t.system_prefix}, std::pair{"user_prefix", &t.user_prefix},
                             std::pair{"assistant_prefix", &t.assistant_prefix}, std::pair{"separator", &t.separator},
                             std::pair{"generation_prompt", &t.generation_prompt}, std::pair{"stop", &t.stop}}) {
    if (!j.contains(name)) continue;
    if (!j[name].is_string()) return Status::InvalidArgument(path + ": " + name + " must be a string");
    *field = j[name].get<std::string>();
  }
  return t;
}

}  // namespace dte::server
