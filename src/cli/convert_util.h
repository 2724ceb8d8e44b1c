#pragma once
// Helpers shared by `dte convert` and `dte model random`.

#include "model/gguf.h"

namespace dte::cli {

// A progress reporter for the model writers: "tensor i/N, x/y MB" on stderr, rewritten in
// place on a terminal, printed only at the end otherwise (logs stay short).
WriteProgressFn StderrProgress();

}  // namespace dte::cli
