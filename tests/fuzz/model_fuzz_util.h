#pragma once
// Model-file checks shared by the model reader fuzz targets (rwkvcpp, gguf, safetensors).
//
// * Mapping bounds: ASan cannot see reads past the end of an mmap'd file (the last page is
//   readable up to its end, zero-filled), so the fuzz binaries link with
//   -Wl,--wrap=mmap,--wrap=munmap and record every live mapping made by our own code.
//   CheckModelFile then verifies that each tensor's bytes match its shape and lie wholly inside
//   the mapping they start in (or outside every mapping: an owned buffer, which ASan guards).
// * BuildAndRun: binds the parsed model (Model::FromFile) and runs tokens through it, so the
//   shape checks of binding are fuzzed too. A file whose tensors disagree with its config
//   must get a Status from binding, never a CHECK failure or an out-of-bounds read.

#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "model/model_file.h"

namespace dte::fuzz {

// Called by the mmap/munmap wrappers.
void RecordMapping(void* p, size_t len);
void ForgetMapping(void* p);

// Fails unless every tensor of `file` is self-consistent (bytes = what its type and shape
// take) and lies inside the mapping it points into, and the config is positive.
void CheckModelFile(const ModelFile& file);

// Limits that keep one run fast; files beyond them are parsed but not built.
inline constexpr int64_t kMaxRunEmbd = 1024;
inline constexpr int64_t kMaxRunLayers = 64;
inline constexpr int64_t kMaxRunVocab = 1 << 16;
inline constexpr int64_t kMaxRunWork = int64_t{1} << 24;  // ~ floats touched per token

// Checks the file, builds the model and feeds two tokens (chosen by `token_seed`) through
// ForwardSequence. Returns true when the model bound and ran.
bool BuildAndRun(ModelFile file, uint64_t token_seed);

}  // namespace dte::fuzz
