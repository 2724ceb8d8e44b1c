#include "server/api_request.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace dte::server {
namespace {

using json = nlohmann::json;

// Reads optional fields of a JSON object with type and range checks; the first problem wins.
class FieldReader {
 public:
  explicit FieldReader(const json& obj) : obj_(obj) {}
  const std::optional<ApiError>& error() const { return error_; }

  const json* Find(const char* name) const {
    auto it = obj_.find(name);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }

  void Number(const char* name, float* out, double lo, double hi) {
    const json* v = Find(name);
    if (!v || error_) return;
    if (!v->is_number()) return Fail(name, std::string(name) + " must be a number");
    double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
      return Fail(name, std::string(name) + " must be between " + Format(lo) + " and " + Format(hi));
    *out = static_cast<float>(d);
  }

  void Integer(const char* name, int64_t* out, int64_t lo, int64_t hi) {
    const json* v = Find(name);
    if (!v || error_) return;
    if (!v->is_number_integer() && !(v->is_number_float() && IsWhole(v->get<double>())))
      return Fail(name, std::string(name) + " must be an integer");
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
      return Fail(name, std::string(name) + " must be at most " + std::to_string(hi));
    double d = v->get<double>();
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
      return Fail(name, std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    *out = v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->get<int64_t>();
  }

  void Bool(const char* name, bool* out) {
    const json* v = Find(name);
    if (!v || error_) return;
    if (!v->is_boolean()) return Fail(name, std::string(name) + " must be true or false");
    *out = v->get<bool>();
  }

  void String(const char* name, std::string* out) {
    const json* v = Find(name);
    if (!v || error_) return;
    if (!v->is_string()) return Fail(name, std::string(name) + " must be a string");
    *out = v->get<std::string>();
  }

  void Fail(const char* param, std::string message) {
    if (!error_) error_ = MakeApiError(400, std::move(message), std::string(param));
  }

 private:
  static bool IsWhole(double d) { return std::isfinite(d) && std::floor(d) == d; }
  static std::string Format(double d) {
    std::string s = std::to_string(d);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const json& obj_;
  std::optional<ApiError> error_;
};

void ReadStop(FieldReader& r, const ApiLimits& limits, std::vector<std::string>* out) {
  const json* v = r.Find("stop");
  if (!v || r.error()) return;
  std::vector<json> items;
  if (v->is_string()) {
    items.push_back(*v);
  } else if (v->is_array()) {
    items.assign(v->begin(), v->end());
  } else {
    return r.Fail("stop", "stop must be a string or an array of strings");
  }
  if (items.size() > limits.max_stop_strings)
    return r.Fail("stop", "stop takes at most " + std::to_string(limits.max_stop_strings) + " strings");
  for (const json& s : items) {
    if (!s.is_string()) return r.Fail("stop", "stop must be a string or an array of strings");
    std::string text = s.get<std::string>();
    if (text.empty()) return r.Fail("stop", "stop strings must not be empty");
    if (text.size() > limits.max_stop_length)
      return r.Fail("stop", "stop strings are limited to " + std::to_string(limits.max_stop_length) + " bytes");
    out->push_back(std::move(text));
  }
}

void ReadLogitBias(FieldReader& r, SamplingParams* p) {
  const json* v = r.Find("logit_bias");
  if (!v || r.error()) return;
  if (!v->is_object()) return r.Fail("logit_bias", "logit_bias must be an object of token id -> bias");
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string& key = it.key();
    char* end = nullptr;
    long id = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || id < 0 || id > std::numeric_limits<int32_t>::max())
      return r.Fail("logit_bias", "logit_bias keys must be token ids, got '" + key + "'");
    if (!it->is_number() || std::fabs(it->get<double>()) > 100)
      return r.Fail("logit_bias", "logit_bias values must be numbers between -100 and 100");
    p->logit_bias.emplace_back(static_cast<int32_t>(id), it->get<float>());
  }
}

void ReadPrompt(FieldReader& r, const json& body, ApiRequest* req) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return r.Fail("prompt", "prompt is required");
  const json& p = *it;
  if (p.is_string()) {
    req->prompt = p.get<std::string>();
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    req->prompt = p[0].get<std::string>();
  } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
    std::vector<int32_t> ids;
    for (const json& t : p) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max())
        return r.Fail("prompt", "a prompt of token ids must hold non-negative integers");
      ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    req->prompt_ids = std::move(ids);
  } else if (p.is_array() && p.size() > 1) {
    return r.Fail("prompt", "only one prompt per request is supported");
  } else {
    return r.Fail("prompt", "prompt must be a string, an array of one string, or an array of token ids");
  }
}

void ReadMessages(FieldReader& r, const json& body, ApiRequest* req) {
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array()) return r.Fail("messages", "messages must be an array of messages");
  if (it->empty()) return r.Fail("messages", "messages must not be empty");
  for (const json& m : *it) {
    if (!m.is_object()) return r.Fail("messages", "each message must be an object with role and content");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return r.Fail("messages", "each message needs a string role");
    std::string role_name = role->get<std::string>();
    if (role_name == "developer") role_name = "system";
    if (role_name != "system" && role_name != "user" && role_name != "assistant")
      return r.Fail("messages", "unsupported message role '" + role_name + "' (system, user, assistant)");
    auto content = m.find("content");
    std::string text;
    if (content == m.end() || content->is_null()) {
      text = "";
    } else if (content->is_string()) {
      text = content->get<std::string>();
    } else if (content->is_array()) {
      for (const json& part : *content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          return r.Fail("messages", "only text content parts are supported");
        text += part["text"].get<std::string>();
      }
    } else {
      return r.Fail("messages", "message content must be a string or an array of text parts");
    }
    req->messages.push_back(ChatMessage{std::move(role_name), std::move(text)});
  }
}

}  // namespace

ParsedRequest ParseApiRequest(ApiKind kind, std::string_view body, const ApiLimits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return MakeApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return MakeApiError(400, "the request body must be a JSON object");

  ApiRequest req;
  req.kind = kind;
  req.max_tokens = limits.default_max_tokens;
  FieldReader r(j);
  if (!r.Find("model")) r.Fail("model", "model is required");
  r.String("model", &req.model);
  if (kind == ApiKind::kCompletion) {
    ReadPrompt(r, j, &req);
  } else {
    ReadMessages(r, j, &req);
  }
  r.Bool("stream", &req.stream);
  if (const json* so = r.Find("stream_options"); so && !r.error()) {
    if (!so->is_object()) r.Fail("stream_options", "stream_options must be an object");
    else FieldReader(*so).Bool("include_usage", &req.include_usage);
  }
  const char* max_name = r.Find("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  r.Integer(max_name, &req.max_tokens, 0, limits.max_tokens_limit);
  SamplingParams& s = req.sampling;
  r.Number("temperature", &s.temperature, 0, 2);
  r.Number("top_p", &s.top_p, 0, 1);
  if (s.top_p == 0) s.top_p = 1e-6f;  // OpenAI accepts 0: keep only the top token
  int64_t top_k = 0;
  r.Integer("top_k", &top_k, 0, 1 << 20);
  s.top_k = static_cast<int>(top_k);
  r.Number("min_p", &s.min_p, 0, 1);
  r.Number("presence_penalty", &s.presence_penalty, -2, 2);
  r.Number("frequency_penalty", &s.frequency_penalty, -2, 2);
  int64_t n = 1;
  r.Integer("n", &n, 1, 1);
  if (const json* seed = r.Find("seed"); seed && !r.error()) {
    if (!seed->is_number_integer()) {
      r.Fail("seed", "seed must be an integer");
    } else {
      s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
    }
  }
  ReadLogitBias(r, &s);
  ReadStop(r, limits, &req.stop);
  r.String("user", &req.user);
  if (r.Find("session_id")) {
    std::string id;
    r.String("session_id", &id);
    req.session_id = id;
  }
  if (r.error()) return *r.error();
  return req;
}

}  // namespace dte::server
