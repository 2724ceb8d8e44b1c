// Random RWKV-6/7 weights (see random_model.h). The per-channel ranges follow the shapes of
// RWKV's published initialization: token-mix coefficients 1 - (c/C)^(k·(1 - l/L)), decays spread
// from fast to slow across channels, later layers' group-norm weights larger.

#include "model/random_model.h"

#include <cmath>
#include <cstring>
#include <functional>

namespace dte {
namespace {

using Shape = std::vector<int64_t>;

// splitmix64: small, fast, and the same numbers on every platform (std:: distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal() {                                                           // Box-Muller
    double u = 1.0 - Uniform(), v = Uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

 private:
  uint64_t s_;
};

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// Fills n values; c is the channel (index mod C), used by per-channel vectors.
using Fill = std::function<float(int64_t index, Rng& rng)>;

class Builder {
 public:
  Builder(ModelSource* out, uint64_t seed, int64_t n_embd) : out_(out), seed_(seed), c_(n_embd) {}

  void Add(const std::string& name, Shape shape, Fill fill) {
    SourceTensor t;
    t.name = name;
    t.type = DType::kF32;
    t.shape = std::move(shape);
    const int64_t n = t.elements();
    const uint64_t seed = seed_ ^ Fnv1a(name);
    t.generate = [n, seed, fill](std::vector<uint8_t>* out) {
      Rng rng(seed);
      std::vector<float> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[i] = fill(i, rng);
      out->resize(v.size() * sizeof(float));
      std::memcpy(out->data(), v.data(), out->size());
      return Status::Ok();
    };
    out_->Add(std::move(t));
  }
  void Normal(const std::string& name, Shape shape, double std) {
    Add(name, std::move(shape),
        [std](int64_t, Rng& r) { return static_cast<float>(r.Normal() * std); });
  }
  void Const(const std::string& name, Shape shape, float v) {
    Add(name, std::move(shape), [v](int64_t, Rng&) { return v; });
  }
  // A per-channel vector f(c / C), plus a little noise so channels differ.
  void Channels(const std::string& name, Shape shape, std::function<double(double)> f) {
    const int64_t c = c_;
    Add(name, std::move(shape), [c, f](int64_t i, Rng& r) {
      return static_cast<float>(f(static_cast<double>(i % c) / static_cast<double>(c)) +
                                0.01 * r.Normal());
    });
  }
  void LayerNorm(const std::string& prefix) {
    Const(prefix + ".weight", {c_}, 1.0f);
    Const(prefix + ".bias", {c_}, 0.0f);
  }

 private:
  ModelSource* out_;
  uint64_t seed_;
  int64_t c_;
};

void AddRwkv7Block(Builder& b, const ModelConfig& c, int64_t i) {
  const int64_t C = c.n_embd, F = c.ffn_dim, L = c.n_layer;
  const double r1 = 1.0 - static_cast<double>(i) / L;                // 1 -> almost 0
  const double r0 = L > 1 ? static_cast<double>(i) / (L - 1) : 0.0;  // 0 -> 1
  const std::string p = "blocks." + std::to_string(i) + ".";
  const std::string a = p + "att.";
  b.LayerNorm(p + "ln1");
  b.LayerNorm(p + "ln2");
  if (i == 0) b.LayerNorm(p + "ln0");
  const double mix_power[6] = {0.2, 0.9, 0.7, 0.7, 0.9, 0.2};  // r, w, k, v, a, g
  b.Add(a + "x_rwkvag", {C, 1, 6}, [C, r1, mix_power](int64_t idx, Rng& r) {
    const double x = static_cast<double>(idx % C) / C;
    return static_cast<float>(1.0 - std::pow(x, mix_power[idx / C] * r1) + 0.01 * r.Normal());
  });
  const double inv = 1.0 / std::sqrt(static_cast<double>(C));
  auto lora = [&](const std::string& x, int64_t rank, double out_std) {
    b.Normal(a + x + "1", {C, rank}, inv);
    b.Normal(a + x + "2", {rank, C}, out_std / std::sqrt(static_cast<double>(rank)));
  };
  b.Channels(a + "w0", {C, 1, 1},
             [r0](double x) { return -6.5 + 5.0 * std::pow(x, 0.85 + std::sqrt(r0)); });
  lora("w", c.lora_decay, 0.1);
  b.Channels(a + "a0", {C, 1, 1}, [](double) { return 0.0; });
  lora("a", c.lora_iclr, 0.1);
  if (i > 0) {
    b.Channels(a + "v0", {C, 1, 1}, [](double) { return 1.0; });
    lora("v", c.lora_value, 0.1);
  }
  lora("g", c.lora_gate, 1.0);
  b.Channels(a + "k_k", {C, 1, 1}, [](double) { return 0.85; });
  b.Channels(a + "k_a", {C, 1, 1}, [](double) { return 1.0; });
  b.Normal(a + "r_k", {c.head_size, c.n_head}, 0.1);
  b.Normal(a + "receptance.weight", {C, C}, inv);
  b.Normal(a + "key.weight", {C, C}, inv);
  b.Normal(a + "value.weight", {C, C}, inv);
  b.Normal(a + "output.weight", {C, C}, 0.5 * inv);
  const double gn = std::pow((1.0 + i) / L, 0.7);
  b.Channels(a + "ln_x.weight", {C}, [gn](double) { return gn; });
  b.Const(a + "ln_x.bias", {C}, 0.0f);
  b.Channels(p + "ffn.x_k", {C, 1, 1},
             [r1](double x) { return 1.0 - std::pow(x, std::pow(r1, 4)); });
  b.Normal(p + "ffn.key.weight", {C, F}, inv);
  b.Normal(p + "ffn.value.weight", {F, C}, 0.5 / std::sqrt(static_cast<double>(F)));
}

void AddRwkv6Block(Builder& b, const ModelConfig& c, int64_t i) {
  const int64_t C = c.n_embd, F = c.ffn_dim, L = c.n_layer, N = c.head_size, H = c.n_head;
  const double r1 = 1.0 - static_cast<double>(i) / L;
  const double r0 = L > 1 ? static_cast<double>(i) / (L - 1) : 0.0;
  const std::string p = "blocks." + std::to_string(i) + ".";
  const std::string a = p + "att.";
  b.LayerNorm(p + "ln1");
  b.LayerNorm(p + "ln2");
  if (i == 0) b.LayerNorm(p + "ln0");
  auto mix = [&](const std::string& name, double k) {
    b.Channels(name, {C}, [r1, k](double x) { return 1.0 - std::pow(x, k * r1); });
  };
  mix(a + "time_maa_x", 1.0);
  mix(a + "time_maa_w", 1.0);
  mix(a + "time_maa_k", 1.0);
  mix(a + "time_maa_v", 1.0);
  mix(a + "time_maa_r", 0.5);
  mix(a + "time_maa_g", 0.5);
  const double inv = 1.0 / std::sqrt(static_cast<double>(C));
  b.Normal(a + "time_maa_w1", {C, 5 * c.lora_mix}, inv);
  b.Normal(a + "time_maa_w2", {c.lora_mix, C, 5}, 0.1 / std::sqrt(static_cast<double>(c.lora_mix)));
  b.Channels(a + "time_decay", {1, N, H},
             [r0](double x) { return -6.0 + 5.0 * std::pow(x, 0.7 + 1.3 * r0); });
  b.Normal(a + "time_decay_w1", {C, c.lora_decay}, inv);
  b.Normal(a + "time_decay_w2", {c.lora_decay, C},
           0.1 / std::sqrt(static_cast<double>(c.lora_decay)));
  b.Channels(a + "time_faaaa", {1, N, H},
             [r0](double x) { return r0 * (1.0 - x) + 0.1 * ((x * 3) - 1.0); });
  for (const char* m : {"receptance", "key", "value", "gate"})
    b.Normal(a + m + ".weight", {C, C}, inv);
  b.Normal(a + "output.weight", {C, C}, 0.5 * inv);
  const double gn = std::pow((1.0 + i) / L, 0.7);
  b.Channels(a + "ln_x.weight", {C}, [gn](double) { return gn; });
  b.Const(a + "ln_x.bias", {C}, 0.0f);
  mix(p + "ffn.time_maa_k", 1.0);
  mix(p + "ffn.time_maa_r", 1.0);
  b.Normal(p + "ffn.key.weight", {C, F}, inv);
  b.Normal(p + "ffn.receptance.weight", {C, C}, inv);
  b.Normal(p + "ffn.value.weight", {F, C}, 0.5 / std::sqrt(static_cast<double>(F)));
}

}  // namespace

int64_t RwkvLoraRank(int64_t n_embd, double exponent, double multiplier) {
  const double r = std::round(std::pow(static_cast<double>(n_embd), exponent) * multiplier / 32.0);
  return std::max<int64_t>(1, static_cast<int64_t>(r)) * 32;
}

Result<ModelConfig> RandomModelConfig(const RandomModelSpec& s) {
  if (s.version != RwkvVersion::kV7 && s.version != RwkvVersion::kV6)
    return Status::Unsupported("random models are RWKV v6 or v7");
  if (s.n_layer < 1 || s.n_layer > 256) return Status::InvalidArgument("layers must be 1 to 256");
  if (s.head_size < 1 || s.n_embd < s.head_size || s.n_embd % s.head_size != 0 ||
      s.n_embd % 32 != 0 || s.n_embd > 16384) {
    return Status::InvalidArgument("embd must be a multiple of 32 and of the head size " +
                                   std::to_string(s.head_size) + ", at most 16384 (got " +
                                   std::to_string(s.n_embd) + ")");
  }
  if (s.n_vocab < 1 || s.n_vocab > (1 << 20))
    return Status::InvalidArgument("vocab must be 1 to 2^20");
  ModelConfig c;
  c.version = s.version;
  c.n_vocab = s.n_vocab;
  c.n_embd = s.n_embd;
  c.n_layer = s.n_layer;
  c.head_size = s.head_size;
  c.n_head = s.n_embd / s.head_size;
  if (s.version == RwkvVersion::kV7) {
    c.ffn_dim = 4 * s.n_embd;
    c.lora_decay = RwkvLoraRank(s.n_embd, 0.5, 1.8);
    c.lora_iclr = RwkvLoraRank(s.n_embd, 0.5, 1.8);
    c.lora_value = RwkvLoraRank(s.n_embd, 0.5, 1.3);
    c.lora_gate = RwkvLoraRank(s.n_embd, 0.8, 0.6);
  } else {
    c.ffn_dim = s.n_embd * 7 / 2 / 32 * 32;
    c.lora_mix = s.n_embd >= 4096 ? 64 : 32;
    c.lora_decay = s.n_embd >= 4096 ? 128 : 64;
  }
  c.layer_norm_eps = 1e-5f;
  c.group_norm_eps = 64e-5f;
  return c;
}

Result<ModelSource> MakeRandomModel(const RandomModelSpec& spec) {
  DTE_ASSIGN_OR_RETURN(ModelConfig c, RandomModelConfig(spec));
  ModelSource out;
  out.config = c;
  Builder b(&out, spec.seed * 0x9e3779b97f4a7c15ull + 1, c.n_embd);
  b.Normal("emb.weight", {c.n_embd, c.n_vocab}, 0.1);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    if (c.version == RwkvVersion::kV7) {
      AddRwkv7Block(b, c, i);
    } else {
      AddRwkv6Block(b, c, i);
    }
  }
  b.LayerNorm("ln_out");
  b.Normal("head.weight", {c.n_embd, c.n_vocab}, 1.0 / std::sqrt(static_cast<double>(c.n_embd)));
  return out;
}

}  // namespace dte
