#include "model/model.h"

#include "model/rwkv_base.h"

namespace dte {

Result<std::shared_ptr<const Model>> Model::Load(const std::string& path, const LoadOptions& options) {
  DTE_ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  return FromFile(std::move(file), options);
}

Result<std::shared_ptr<const Model>> Model::FromFile(ModelFile file, const LoadOptions& options) {
  ModelConfig config = file.config;
  if (options.group_norm_eps) config.group_norm_eps = *options.group_norm_eps;
  const std::string path = file.path;
  Result<std::shared_ptr<const Model>> model = Status::Internal("unreachable");
  switch (config.version) {
    case RwkvVersion::kV4: model = MakeRwkv4(config, std::move(file)); break;
    case RwkvVersion::kV5_1:
    case RwkvVersion::kV5_2: model = MakeRwkv5(config, std::move(file)); break;
    case RwkvVersion::kV6: model = MakeRwkv6(config, std::move(file)); break;
    case RwkvVersion::kV7: model = MakeRwkv7(config, std::move(file)); break;
  }
  if (!model.ok()) return model.status().WithPrefix(path);
  return model;
}

void Model::ForwardSequence(std::span<const int32_t> tokens, State& state, float* logits,
                            Scratch& scratch, ThreadPool* pool) const {
  const SequenceChunk chunk{tokens, &state, logits};
  ForwardBatch(std::span<const SequenceChunk>(&chunk, 1), scratch, pool);
}

void Model::ForwardSerial(std::span<const int32_t> tokens, State& state, float* logits,
                          Scratch& scratch, ThreadPool* pool) const {
  for (size_t i = 0; i < tokens.size(); ++i)
    ForwardSequence(tokens.subspan(i, 1), state, i + 1 == tokens.size() ? logits : nullptr, scratch,
                    pool);
}

}  // namespace dte
