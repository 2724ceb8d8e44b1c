#pragma once
// Decodes one Python string or bytes literal (the middle column of the RWKV World vocab file)
// into the raw bytes it denotes: a str literal becomes its UTF-8 encoding, a bytes literal its
// bytes. Follows Python 3's rules for the subset the vocab uses and rejects the rest with a
// message saying what was wrong: quotes ' or " (no triple quotes, no r/u/f prefixes), escapes
// \\ \' \" \a \b \f \n \r \t \v \<octal> \xHH, plus \uXXXX and \UXXXXXXXX in str literals.
// An unknown escape keeps its backslash, as in Python; an octal escape past \377 in bytes is
// refused (Python masks it to a byte with a warning). Pure function; thread-safe.

#include <string>
#include <string_view>

#include "base/status.h"

namespace dte {

Result<std::string> ParsePythonLiteral(std::string_view literal);

}  // namespace dte
