#pragma once
// An RWKV model ready to run: configuration plus weights bound for the forward pass of its
// version. Immutable after Load and shared read-only (shared_ptr<const Model>) by every thread;
// all per-sequence data lives in State, all temporaries in a caller-owned Scratch.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/batch_rows.h"
#include "model/config.h"
#include "model/model_file.h"
#include "model/state.h"

namespace dte {

// Preallocated temporaries for one forward call at a time, in numbered slots that grow on first
// use only, so the per-token path never allocates after warm-up. One Scratch per calling thread.
class Scratch {
 public:
  // A buffer of at least `floats` floats; stays valid until slot `slot` is asked for more.
  float* Get(size_t slot, size_t floats) {
    if (slots_.size() <= slot) slots_.resize(slot + 1);
    if (slots_[slot].size() < floats) slots_[slot].resize(floats);
    return slots_[slot].data();
  }

  // Bookkeeping of the current batch pass (cleared, never shrunk, between passes).
  struct Pass {
    BatchRows rows;
    std::vector<int32_t> tokens;   // one per row
    std::vector<float*> logits;    // one per segment (null: not needed)
    std::vector<size_t> consumed;  // tokens of each SequenceChunk already run
  } pass;

 private:
  std::vector<std::vector<float>> slots_;
};

// One sequence's share of a batched forward call.
struct SequenceChunk {
  std::span<const int32_t> tokens;  // at least one token
  State* state = nullptr;           // updated in place
  float* logits = nullptr;          // n_vocab floats after the last token, or null to skip
};

struct LoadOptions {
  std::optional<float> group_norm_eps;  // override the per-version default
};

class Model {
 public:
  virtual ~Model() = default;

  // Opens any supported file (format detected from its first bytes).
  static Result<std::shared_ptr<const Model>> Load(const std::string& path, const LoadOptions& options = {});
  // Builds the forward pass over an already-read file (takes ownership of its tensors).
  static Result<std::shared_ptr<const Model>> FromFile(ModelFile file, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelFile& file() const { return file_; }
  State NewState() const { return State(config_); }

  // Serial mode: feeds tokens one at a time. Writes the logits after the last token to
  // `logits` (n_vocab floats) unless it is null.
  void ForwardSerial(std::span<const int32_t> tokens, State& state, float* logits, Scratch& scratch,
                     ThreadPool* pool) const;

  // Sequence mode: the whole chunk as matrix-matrix work (each weight read once per chunk).
  // Same results as serial mode within float rounding.
  void ForwardSequence(std::span<const int32_t> tokens, State& state, float* logits, Scratch& scratch,
                       ThreadPool* pool) const;

  // Several sequences in one pass: their tokens form the rows of every matrix product (one
  // decode token each plus prefill chunks, as a continuous-batching scheduler sends them), so
  // each weight is read once per pass. States must be distinct. Token ids must be in range.
  virtual void ForwardBatch(std::span<const SequenceChunk> batch, Scratch& scratch,
                            ThreadPool* pool) const = 0;

 protected:
  Model(ModelConfig config, ModelFile file) : config_(config), file_(std::move(file)) {}
  ModelConfig config_;
  ModelFile file_;
};

}  // namespace dte
