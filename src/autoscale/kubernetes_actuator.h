#pragma once
// KubernetesActuator: scales a Deployment through the API server's scale subresource,
//   GET   {api}/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale   -> spec.replicas
//   PATCH {api}/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale
//         Content-Type: application/merge-patch+json  {"spec":{"replicas":N}}
// with `Authorization: Bearer <token>` read from the service account token file on every call
// (projected tokens rotate). The RBAC it needs: get, patch on deployments/scale (see
// deploy/k8s/rbac.yaml).
//
// Transport: our http::Client speaks plain HTTP only (no TLS), so the in-cluster HTTPS
// endpoint (https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, CA at ca_path) cannot
// be dialled directly. Production runs `kubectl proxy` as a sidecar (it authenticates with the
// pod's service account and verifies the API server's certificate) and points `api_url` at
// http://127.0.0.1:8001; a token file that does not exist is then simply not sent. Options
// come from the environment (FromEnvironment) or are set directly (tests use a fake server).
// Thread-safety: one control loop calls it at a time.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "autoscale/actuator.h"
#include "http/client.h"

namespace dte::autoscale {

struct KubernetesOptions {
  std::string api_url = "http://127.0.0.1:8001";  // kubectl proxy
  std::string namespace_name = "default";
  std::string deployment;
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";  // for HTTPS
  std::chrono::milliseconds timeout{5'000};
};

// Defaults for a pod: namespace from DTE_K8S_NAMESPACE, else the service account's namespace
// file, else "default"; api_url from DTE_K8S_API_URL, else the kubectl proxy sidecar
// (http://127.0.0.1:8001). Setting DTE_K8S_API_URL=https://$KUBERNETES_SERVICE_HOST:... is
// refused by Create() until the http client gains TLS.
KubernetesOptions KubernetesOptionsFromEnvironment(std::string deployment);

class KubernetesActuator : public Actuator {
 public:
  // Fails for an https:// api_url (no TLS in our client) or an empty deployment name.
  static Result<std::unique_ptr<KubernetesActuator>> Create(boost::asio::any_io_executor executor,
                                                            KubernetesOptions options);

  boost::asio::awaitable<Result<int>> Current() override;
  boost::asio::awaitable<Status> SetReplicas(int replicas) override;
  std::string_view name() const override { return "kubernetes"; }
  const std::string& scale_path() const { return scale_path_; }

 private:
  KubernetesActuator(boost::asio::any_io_executor executor, KubernetesOptions options,
                     std::string host, uint16_t port, std::string scale_path);
  http::Headers AuthHeaders() const;
  // Reads spec.replicas from a Scale object, or explains the error status.
  static Result<int> ReadScale(const http::ClientResponse& response, const std::string& what);

  KubernetesOptions options_;
  std::string scale_path_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace dte::autoscale
