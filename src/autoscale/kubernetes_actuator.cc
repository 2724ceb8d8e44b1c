#include "autoscale/kubernetes_actuator.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autoscale/http_url.h"

namespace dte::autoscale {

namespace asio = boost::asio;

namespace {

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The API server's error body is a Status object with a "message"; fall back to the raw body.
std::string ApiMessage(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return body.substr(0, 200);
}

}  // namespace

KubernetesOptions KubernetesOptionsFromEnvironment(std::string deployment) {
  KubernetesOptions o;
  o.deployment = std::move(deployment);
  if (std::string url = Env("DTE_K8S_API_URL"); !url.empty()) o.api_url = url;
  std::string ns = Env("DTE_K8S_NAMESPACE");
  if (ns.empty()) ns = ReadTrimmed("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  if (!ns.empty()) o.namespace_name = ns;
  return o;
}

Result<std::unique_ptr<KubernetesActuator>> KubernetesActuator::Create(
    asio::any_io_executor executor, KubernetesOptions options) {
  if (options.deployment.empty()) return Status::InvalidArgument("no Deployment name");
  if (options.namespace_name.empty()) return Status::InvalidArgument("no namespace");
  Result<HttpUrl> url = ParseHttpUrl(options.api_url);
  if (!url.ok()) return url.status().WithPrefix("Kubernetes API URL");
  std::string path = url->path + "/apis/apps/v1/namespaces/" + options.namespace_name +
                     "/deployments/" + options.deployment + "/scale";
  return std::unique_ptr<KubernetesActuator>(new KubernetesActuator(
      std::move(executor), std::move(options), url->host, url->port, std::move(path)));
}

KubernetesActuator::KubernetesActuator(asio::any_io_executor executor, KubernetesOptions options,
                                       std::string host, uint16_t port, std::string scale_path)
    : options_(std::move(options)), scale_path_(std::move(scale_path)) {
  http::ClientOptions co;
  co.connect_timeout = options_.timeout;
  co.io_timeout = options_.timeout;
  co.max_idle_connections = 2;
  client_ = std::make_unique<http::Client>(std::move(executor), std::move(host), port, co);
}

http::Headers KubernetesActuator::AuthHeaders() const {
  http::Headers h;
  h.Add("Accept", "application/json");
  const std::string token = ReadTrimmed(options_.token_path);
  if (!token.empty()) h.Add("Authorization", "Bearer " + token);
  return h;
}

Result<int> KubernetesActuator::ReadScale(const http::ClientResponse& r, const std::string& what) {
  if (r.status == 401 || r.status == 403)
    return Status::Unavailable(
        what + ": HTTP " + std::to_string(r.status) +
        " (check the service account's RBAC for deployments/scale): " + ApiMessage(r.body));
  if (r.status == 404) return Status::NotFound(what + ": " + ApiMessage(r.body));
  if (r.status == 409) return Status::Conflict(what + ": " + ApiMessage(r.body));
  if (r.status != 200)
    return Status::Unavailable(what + ": HTTP " + std::to_string(r.status) + ": " +
                               ApiMessage(r.body));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("spec") || !j["spec"].is_object())
    return Status::Corrupt(what + ": the response is not a Scale object");
  // spec.replicas is omitted when 0 (omitempty).
  const nlohmann::json& replicas = j["spec"].value("replicas", nlohmann::json(0));
  if (!replicas.is_number_integer())
    return Status::Corrupt(what + ": spec.replicas is not an integer");
  return replicas.get<int>();
}

asio::awaitable<Result<int>> KubernetesActuator::Current() {
  const std::string method = "GET";
  http::Headers headers = AuthHeaders();
  Result<http::ClientResponse> r =
      co_await client_->Request(method, scale_path_, std::move(headers));
  if (!r.ok()) co_return r.status().WithPrefix("GET " + scale_path_);
  co_return ReadScale(*r, "GET " + scale_path_);
}

asio::awaitable<Status> KubernetesActuator::SetReplicas(int replicas) {
  if (replicas < 0) co_return Status::InvalidArgument("replicas must be >= 0");
  const std::string method = "PATCH";
  http::Headers headers = AuthHeaders();
  headers.Add("Content-Type", "application/merge-patch+json");
  nlohmann::json patch = {{"spec", {{"replicas", replicas}}}};
  std::string body = patch.dump();
  Result<http::ClientResponse> r =
      co_await client_->Request(method, scale_path_, std::move(headers), std::move(body));
  if (!r.ok()) co_return r.status().WithPrefix("PATCH " + scale_path_);
  Result<int> now = ReadScale(*r, "PATCH " + scale_path_);
  if (!now.ok()) co_return now.status();
  if (*now != replicas)
    co_return Status::Internal("PATCH " + scale_path_ + ": asked for " + std::to_string(replicas) +
                               ", the API server answered spec.replicas " + std::to_string(*now));
  co_return Status::Ok();
}

}  // namespace dte::autoscale
