#pragma once
// Small helpers shared by the subcommands.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace dte::cli {

// Prints "dte <command>: <status>" to stderr and returns exit code 1.
int Fail(const std::string& command, const Status& status);

// "34,105,110" -> ids; rejects anything else with a message naming the bad item.
Result<std::vector<int32_t>> ParseTokenList(const std::string& text);

// Refuses ids outside [0, n_vocab).
Status CheckTokenIds(const std::vector<int32_t>& ids, int64_t n_vocab);

// A float printed with enough digits to read back exactly.
std::string ExactFloat(float v);

}  // namespace dte::cli
