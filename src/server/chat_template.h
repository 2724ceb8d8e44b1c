#pragma once
// How chat messages become prompt text. The default is the RWKV World convention:
//   System: ...\n\nUser: ...\n\nAssistant: ...\n\nUser: ...\n\nAssistant:
// generation stops at "\n\n", and "\n\n" inside a message is folded to "\n" so it cannot
// end a turn early. Replaceable from a JSON file with the same field names.

#include <string>
#include <vector>

#include "base/status.h"
#include "server/api_request.h"
#include "tokenizer/tokenizer.h"

namespace dte::server {

struct ChatTemplate {
  std::string system_prefix = "System: ";
  std::string user_prefix = "User: ";
  std::string assistant_prefix = "Assistant: ";
  std::string separator = "\n\n";
  std::string generation_prompt = "Assistant:";
  std::string stop = "\n\n";

  // Prompt text for `messages`, ending with the generation prompt. `continuing` is true when
  // the text goes after a session's history that did not end with the separator.
  std::string Render(const std::vector<ChatMessage>& messages, bool continuing_without_separator = false) const;
  // The same text cut after each message: one piece per message, then the generation prompt.
  // Tokenized piece by piece, a conversation's earlier turns keep the same tokens in every later
  // request (what lets the state cache resume from a turn boundary).
  std::vector<std::string> RenderPieces(const std::vector<ChatMessage>& messages,
                                        bool continuing_without_separator = false) const;
  // Only the system prompt (for a new session), with its separator.
  std::string RenderSystem(const std::string& system_prompt) const;
  // True when an assistant message starts with the tokens of the generation prompt
  // ("Assistant: ..." after "Assistant:", as with the default template and the World and byte
  // tokenizers). Then a prompt's end-of-prompt checkpoint serves the next turn of the
  // conversation, and one at the end of its last message would only cut the prompt's last
  // prefill into two scheduler steps, each reading all the weights, for no cache benefit.
  bool GenerationPromptStartsReplies(const Tokenizer& tokenizer) const;

  // Reads {"system_prefix": ..., "user_prefix": ..., ...}; missing fields keep their default.
  static Result<ChatTemplate> FromJsonFile(const std::string& path);
};

}  // namespace dte::server
