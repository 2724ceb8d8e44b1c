#include "model_fuzz_util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <vector>

#include "model/model.h"

// Linked with -Wl,--wrap=mmap,--wrap=munmap: calls to mmap/munmap from our statically linked
// objects (MappedFile) land here; __real_* are the originals (ASan's interceptors).
extern "C" {
void* __real_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void* addr, size_t len);
void* __wrap_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void* addr, size_t len);
}

namespace dte::fuzz {
namespace {

// Live mappings made by our code: start address -> length.
std::map<uintptr_t, size_t>& Mappings() {
  static auto* m = new std::map<uintptr_t, size_t>;
  return *m;
}

// The mapping whose pages contain address p, as [begin, begin + file length), or {0, 0}.
std::pair<uintptr_t, uintptr_t> MappingOf(uintptr_t p) {
  auto& m = Mappings();
  auto it = m.upper_bound(p);
  if (it == m.begin()) return {0, 0};
  --it;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t mapped_end = it->first + ((it->second + page - 1) / page) * page;
  if (p >= mapped_end) return {0, 0};
  return {it->first, it->first + it->second};
}

}  // namespace

void RecordMapping(void* p, size_t len) { Mappings()[reinterpret_cast<uintptr_t>(p)] = len; }
void ForgetMapping(void* p) { Mappings().erase(reinterpret_cast<uintptr_t>(p)); }

void CheckModelFile(const ModelFile& file) {
  const ModelConfig& c = file.config;
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_vocab <= 0)
    Fail("reader accepted a non-positive config: " + c.ToString());
  for (const Tensor& t : file.tensors.tensors()) {
    if (t.shape.empty()) Fail("tensor '" + t.name + "' has no shape");
    int64_t elements = 1;
    for (int64_t d : t.shape) {
      if (d <= 0) Fail("tensor '" + t.name + "' has shape " + t.ShapeString());
      if (__builtin_mul_overflow(elements, d, &elements))
        Fail("tensor '" + t.name + "' element count overflows: " + t.ShapeString());
    }
    if (t.shape[0] % DTypeBlockSize(t.type) != 0)
      Fail("tensor '" + t.name + "' row " + std::to_string(t.shape[0]) +
           " is not a multiple of its block size");
    const size_t want =
        DTypeRowBytes(t.type, t.shape[0]) * static_cast<size_t>(elements / t.shape[0]);
    if (t.bytes != want)
      Fail("tensor '" + t.name + "' " + t.ShapeString() + " " + std::string(DTypeName(t.type)) +
           " claims " + std::to_string(t.bytes) + " bytes, its shape takes " +
           std::to_string(want));
    if (t.data == nullptr) Fail("tensor '" + t.name + "' has no data");
    const auto p = reinterpret_cast<uintptr_t>(t.data);
    auto [begin, end] = MappingOf(p);
    if (begin == 0) continue;  // an owned buffer: ASan checks reads of it
    if (p + t.bytes > end || p + t.bytes < p)
      Fail("tensor '" + t.name + "' at mapping offset " + std::to_string(p - begin) + " with " +
           std::to_string(t.bytes) + " bytes runs past the end of the file (" +
           std::to_string(end - begin) + " bytes)");
  }
}

bool BuildAndRun(ModelFile file, uint64_t token_seed) {
  CheckModelFile(file);
  const ModelConfig& c = file.config;
  if (c.n_embd > kMaxRunEmbd || c.n_layer > kMaxRunLayers || c.n_vocab > kMaxRunVocab ||
      c.ffn_dim > 16 * kMaxRunEmbd || c.head_size > kMaxRunEmbd)
    return false;
  const int64_t per_layer =
      16 * c.n_embd * c.n_embd + 2 * c.n_embd * c.ffn_dim + c.StateFloatsPerLayer();
  if (per_layer * c.n_layer + c.n_vocab * c.n_embd > kMaxRunWork) return false;
  const int64_t n_vocab = c.n_vocab;
  Result<std::shared_ptr<const Model>> model = Model::FromFile(std::move(file));
  if (!model.ok()) {
    CheckError(model.status());
    return false;
  }
  State state = (*model)->NewState();
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  Scratch scratch;
  const auto v = static_cast<uint64_t>(n_vocab);
  const int32_t tokens[2] = {static_cast<int32_t>(token_seed % v),
                             static_cast<int32_t>((token_seed / 7) % v)};
  (*model)->ForwardSequence(tokens, state, logits.data(), scratch, nullptr);
  return true;
}

}  // namespace dte::fuzz

extern "C" void* __wrap_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  void* p = __real_mmap(addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED) dte::fuzz::RecordMapping(p, len);
  return p;
}

extern "C" int __wrap_munmap(void* addr, size_t len) {
  dte::fuzz::ForgetMapping(addr);
  return __real_munmap(addr, len);
}
