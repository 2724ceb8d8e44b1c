// GgufValue helpers and the ggml type table.

#include <cstdio>
#include <limits>

#include "model/gguf.h"

namespace dte {

std::string_view GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kU8:
      return "uint8";
    case GgufType::kI8:
      return "int8";
    case GgufType::kU16:
      return "uint16";
    case GgufType::kI16:
      return "int16";
    case GgufType::kU32:
      return "uint32";
    case GgufType::kI32:
      return "int32";
    case GgufType::kF32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kU64:
      return "uint64";
    case GgufType::kI64:
      return "int64";
    case GgufType::kF64:
      return "float64";
  }
  return "?";
}

GgufValue GgufValue::U32(uint32_t v) {
  GgufValue g;
  g.type = GgufType::kU32;
  g.u = v;
  return g;
}

GgufValue GgufValue::I32(int32_t v) {
  GgufValue g;
  g.type = GgufType::kI32;
  g.i = v;
  return g;
}

GgufValue GgufValue::U64(uint64_t v) {
  GgufValue g;
  g.type = GgufType::kU64;
  g.u = v;
  return g;
}

GgufValue GgufValue::F32(float v) {
  GgufValue g;
  g.type = GgufType::kF32;
  g.f = v;
  return g;
}

GgufValue GgufValue::Bool(bool v) {
  GgufValue g;
  g.type = GgufType::kBool;
  g.u = v ? 1 : 0;
  return g;
}

GgufValue GgufValue::String(std::string v) {
  GgufValue g;
  g.type = GgufType::kString;
  g.str = std::move(v);
  return g;
}

GgufValue GgufValue::StringArray(const std::vector<std::string>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kString;
  g.array.reserve(v.size());
  for (const std::string& s : v) g.array.push_back(String(s));
  return g;
}

GgufValue GgufValue::I32Array(const std::vector<int32_t>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kI32;
  g.array.reserve(v.size());
  for (int32_t x : v) g.array.push_back(I32(x));
  return g;
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> GgufValue::AsInt() const {
  if (!is_integer()) return std::nullopt;
  switch (type) {
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return i;
    default:
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(u);
  }
}

std::string GgufValue::ToString() const {
  switch (type) {
    case GgufType::kI8:
    case GgufType::kI16:
    case GgufType::kI32:
    case GgufType::kI64:
      return std::to_string(i);
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      return std::to_string(u);
    case GgufType::kBool:
      return u ? "true" : "false";
    case GgufType::kF32:
    case GgufType::kF64: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.9g", f);
      return buf;
    }
    case GgufType::kString:
      return "\"" + str + "\"";
    case GgufType::kArray: {
      std::string s = "[";  // appended piecewise: GCC 12 warns (falsely) about a + b + c here
      s.append(GgufTypeName(elem_type));
      s.append(" x ");
      s.append(std::to_string(array.size()));
      s.append("]");
      return s;
    }
  }
  return "?";
}

std::optional<GgmlTypeTraits> GgmlTypeTraitsOf(uint32_t t) {
  // From ggml's block definitions (ggml-common.h); 4, 5 and 31-33, 36-38 were removed.
  switch (t) {
    case 0:
      return GgmlTypeTraits{"f32", 1, 4};
    case 1:
      return GgmlTypeTraits{"f16", 1, 2};
    case 2:
      return GgmlTypeTraits{"q4_0", 32, 18};
    case 3:
      return GgmlTypeTraits{"q4_1", 32, 20};
    case 6:
      return GgmlTypeTraits{"q5_0", 32, 22};
    case 7:
      return GgmlTypeTraits{"q5_1", 32, 24};
    case 8:
      return GgmlTypeTraits{"q8_0", 32, 34};
    case 9:
      return GgmlTypeTraits{"q8_1", 32, 36};
    case 10:
      return GgmlTypeTraits{"q2_k", 256, 84};
    case 11:
      return GgmlTypeTraits{"q3_k", 256, 110};
    case 12:
      return GgmlTypeTraits{"q4_k", 256, 144};
    case 13:
      return GgmlTypeTraits{"q5_k", 256, 176};
    case 14:
      return GgmlTypeTraits{"q6_k", 256, 210};
    case 15:
      return GgmlTypeTraits{"q8_k", 256, 292};
    case 16:
      return GgmlTypeTraits{"iq2_xxs", 256, 66};
    case 17:
      return GgmlTypeTraits{"iq2_xs", 256, 74};
    case 18:
      return GgmlTypeTraits{"iq3_xxs", 256, 98};
    case 19:
      return GgmlTypeTraits{"iq1_s", 256, 50};
    case 20:
      return GgmlTypeTraits{"iq4_nl", 32, 18};
    case 21:
      return GgmlTypeTraits{"iq3_s", 256, 110};
    case 22:
      return GgmlTypeTraits{"iq2_s", 256, 82};
    case 23:
      return GgmlTypeTraits{"iq4_xs", 256, 136};
    case 24:
      return GgmlTypeTraits{"i8", 1, 1};
    case 25:
      return GgmlTypeTraits{"i16", 1, 2};
    case 26:
      return GgmlTypeTraits{"i32", 1, 4};
    case 27:
      return GgmlTypeTraits{"i64", 1, 8};
    case 28:
      return GgmlTypeTraits{"f64", 1, 8};
    case 29:
      return GgmlTypeTraits{"iq1_m", 256, 56};
    case 30:
      return GgmlTypeTraits{"bf16", 1, 2};
    case 34:
      return GgmlTypeTraits{"tq1_0", 256, 54};
    case 35:
      return GgmlTypeTraits{"tq2_0", 256, 66};
    case 39:
      return GgmlTypeTraits{"mxfp4", 32, 17};
    case 40:
      return GgmlTypeTraits{"nvfp4", 64, 36};
    case 41:
      return GgmlTypeTraits{"q1_0", 128, 18};
    case 42:
      return GgmlTypeTraits{"q2_0", 64, 18};
    default:
      return std::nullopt;
  }
}

int64_t GgufTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace dte
