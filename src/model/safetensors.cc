// safetensors container: parser over a mapping, and a small writer.

#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "model/output_file.h"

namespace dte {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 50;

Status ParseEntry(const std::string& path, const std::string& name, const nlohmann::json& e,
                  uint64_t data_size, SafetensorsTensor* t) {
  auto bad = [&](const std::string& why) {
    return Status::Corrupt(path + ": header entry for tensor '" + name + "': " + why);
  };
  if (!e.is_object()) return bad("expected an object");
  auto dtype = e.find("dtype");
  auto shape = e.find("shape");
  auto offsets = e.find("data_offsets");
  if (dtype == e.end() || !dtype->is_string()) return bad("missing string \"dtype\"");
  if (shape == e.end() || !shape->is_array()) return bad("missing array \"shape\"");
  if (offsets == e.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    return bad("\"data_offsets\" must be two non-negative integers");
  t->name = name;
  t->dtype = dtype->get<std::string>();
  const size_t elem = SafetensorsDTypeSize(t->dtype);
  if (elem == 0) return bad("unknown dtype '" + t->dtype + "'");
  if (shape->size() > 8) return bad("more than 8 dimensions");
  int64_t n = 1;
  for (const nlohmann::json& d : *shape) {
    if (!d.is_number_unsigned())
      return bad("shape holds something that is not a non-negative integer");
    const uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(kMaxElements) ||
        (v > 0 && n > kMaxElements / static_cast<int64_t>(v)))
      return bad("shape is too large");
    n *= static_cast<int64_t>(v);
    t->shape.push_back(static_cast<int64_t>(v));
  }
  const uint64_t begin = (*offsets)[0].get<uint64_t>();
  const uint64_t end = (*offsets)[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
               ") outside the data section of " + std::to_string(data_size) +
               " bytes (truncated?)");
  }
  if (end - begin != static_cast<uint64_t>(n) * elem) {
    return bad("data_offsets span " + std::to_string(end - begin) + " bytes but " + t->dtype +
               " shape needs " + std::to_string(static_cast<uint64_t>(n) * elem));
  }
  t->bytes = end - begin;
  t->offset = begin;
  return Status::Ok();
}

}  // namespace

int64_t SafetensorsTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

size_t SafetensorsDTypeSize(std::string_view d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

Result<SafetensorsFile> SafetensorsFile::Parse(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  if (file->size() < 8) {
    return Status::Corrupt(path + ": truncated at offset 0: need 8 bytes for the header length, " +
                           std::to_string(file->size()) + " present");
  }
  uint64_t n;
  std::memcpy(&n, file->data(), 8);
  if (n > kSafetensorsMaxHeader) {
    return Status::Corrupt(path + ": header length " + std::to_string(n) +
                           " exceeds the limit of " + std::to_string(kSafetensorsMaxHeader) +
                           " bytes");
  }
  if (n > file->size() - 8) {
    return Status::Corrupt(path + ": truncated at offset 8: the header needs " + std::to_string(n) +
                           " bytes, " + std::to_string(file->size() - 8) + " left");
  }
  const char* text = reinterpret_cast<const char*>(file->data() + 8);
  nlohmann::json header =
      nlohmann::json::parse(text, text + n, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return Status::Corrupt(path + ": offset 8: the header is not a JSON object");

  SafetensorsFile out;
  out.file_ = file;
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = file->size() - data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return Status::Corrupt(path + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return Status::Corrupt(path + ": __metadata__ value '" + m.key() + "' is not a string");
        out.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    SafetensorsTensor t;
    DTE_RETURN_IF_ERROR(ParseEntry(path, it.key(), *it, data_size, &t));
    t.data = file->data() + data_start + t.offset;
    out.tensors_.push_back(std::move(t));
  }
  std::sort(
      out.tensors_.begin(), out.tensors_.end(),
      [](const SafetensorsTensor& a, const SafetensorsTensor& b) { return a.offset < b.offset; });
  for (size_t k = 0; k < out.tensors_.size(); ++k) out.index_[out.tensors_[k].name] = k;
  return out;
}

const SafetensorsTensor* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status WriteSafetensors(const std::string& path, const std::vector<SafetensorsOutTensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const SafetensorsOutTensor& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // the data section starts 8-aligned
  DTE_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Create(path));
  const uint64_t n = text.size();
  DTE_RETURN_IF_ERROR(file.Write(&n, 8));
  DTE_RETURN_IF_ERROR(file.Write(text.data(), text.size()));
  for (const SafetensorsOutTensor& t : tensors)
    DTE_RETURN_IF_ERROR(file.Write(t.bytes.data(), t.bytes.size()));
  return file.Commit();
}

}  // namespace dte
