// KubernetesActuator against FakeKubeApiServer: a fake of the API server's Deployment scale
// subresource on loopback (plain HTTP; the real one is HTTPS, reached through kubectl proxy),
// built on our http::Server. It checks the bearer token, the merge-patch content type and
// body, and can be told to fail.

#include "autoscale/kubernetes_actuator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/server.h"
#include "test_loop.h"

namespace dte::autoscale {
namespace {

namespace asio = boost::asio;

class FakeKubeApiServer {
 public:
  FakeKubeApiServer(std::string token, int replicas)
      : token_(std::move(token)), replicas_(replicas) {
    http::Router r;
    const std::string path = "/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale";
    r.Get(path, [this](http::Request& req, http::Responder& res) { return Handle(req, res); });
    r.Add("PATCH", path,
          [this](http::Request& req, http::Responder& res) { return Handle(req, res); });
    http::ServerOptions o;
    server_ = std::make_unique<http::Server>(o, std::move(r));
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeKubeApiServer() { server_->Stop(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  int replicas() const { return replicas_.load(); }
  void FailWith(int status) { fail_status_.store(status); }
  std::vector<std::string> log() const {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  static nlohmann::json ApiStatus(int code, const std::string& reason, const std::string& message) {
    return {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
            {"message", message}, {"reason", reason},   {"code", code}};
  }

  asio::awaitable<void> Handle(http::Request& req, http::Responder& res) {
    {
      std::lock_guard lock(mu_);
      log_.push_back(req.method + " " + req.path + " ns=" + std::string(req.PathParam("ns")) +
                     " name=" + std::string(req.PathParam("name")) +
                     " auth=" + std::string(req.Header("authorization")) +
                     " type=" + std::string(req.Header("content-type")) + " body=" + req.body);
    }
    nlohmann::json reply;
    int status = 200;
    if (req.Header("authorization") != "Bearer " + token_) {
      status = 401;
      reply = ApiStatus(401, "Unauthorized", "Unauthorized");
    } else if (req.PathParam("name") != "dte-worker") {
      status = 404;
      reply =
          ApiStatus(404, "NotFound",
                    "deployments.apps \"" + std::string(req.PathParam("name")) + "\" not found");
    } else if (int f = fail_status_.load(); f != 0) {
      status = f;
      reply = ApiStatus(f, "Injected", "injected failure " + std::to_string(f));
    } else if (req.method == "PATCH") {
      nlohmann::json patch = nlohmann::json::parse(req.body, nullptr, false);
      if (req.Header("content-type") != "application/merge-patch+json" || patch.is_discarded() ||
          !patch["spec"]["replicas"].is_number_integer()) {
        status = 415;
        reply = ApiStatus(415, "UnsupportedMediaType", "bad patch");
      } else {
        replicas_.store(patch["spec"]["replicas"].get<int>());
      }
    }
    if (status == 200) {
      reply = {
          {"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", {{"name", "dte-worker"}, {"namespace", std::string(req.PathParam("ns"))}}},
          {"spec", nlohmann::json::object()},
          {"status", {{"replicas", replicas_.load()}, {"selector", "app=dte-worker"}}}};
      if (replicas_.load() != 0) reply["spec"]["replicas"] = replicas_.load();  // omitempty
    }
    std::string body = reply.dump();
    co_await res.Send(status, "application/json", std::move(body));
  }

  const std::string token_;
  std::atomic<int> replicas_;
  std::atomic<int> fail_status_{0};
  mutable std::mutex mu_;
  std::vector<std::string> log_;
  std::unique_ptr<http::Server> server_;
};

class KubernetesActuatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_path_ = ::testing::TempDir() + "/dte_k8s_token_" + std::to_string(::getpid());
    std::ofstream(token_path_) << "secret-token\n";
  }
  void TearDown() override { std::remove(token_path_.c_str()); }

  std::unique_ptr<KubernetesActuator> Make(const std::string& deployment = "dte-worker") {
    KubernetesOptions o;
    o.api_url = fake_.url();
    o.namespace_name = "serving";
    o.deployment = deployment;
    o.token_path = token_path_;
    Result<std::unique_ptr<KubernetesActuator>> a =
        KubernetesActuator::Create(loop_.ioc().get_executor(), o);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return std::move(*a);
  }
  Result<int> Current(KubernetesActuator& a) {
    return *loop_.Run(
        [&]() -> asio::awaitable<std::optional<Result<int>>> { co_return co_await a.Current(); });
  }
  Status Set(KubernetesActuator& a, int n) {
    return loop_.Run([&]() -> asio::awaitable<Status> { co_return co_await a.SetReplicas(n); });
  }

  std::string token_path_;
  FakeKubeApiServer fake_{"secret-token", 3};
  testing::Loop loop_;
};

TEST_F(KubernetesActuatorTest, GetsTheScale) {
  auto a = Make();
  EXPECT_EQ(a->scale_path(), "/apis/apps/v1/namespaces/serving/deployments/dte-worker/scale");
  Result<int> n = Current(*a);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  std::vector<std::string> log = fake_.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("GET /apis/apps/v1/namespaces/serving/deployments/dte-worker/scale"),
            std::string::npos);
  EXPECT_NE(log[0].find("auth=Bearer secret-token "), std::string::npos) << log[0];
}

TEST_F(KubernetesActuatorTest, PatchesReplicas) {
  auto a = Make();
  ASSERT_TRUE(Set(*a, 7).ok());
  EXPECT_EQ(fake_.replicas(), 7);
  std::vector<std::string> log = fake_.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("PATCH "), std::string::npos);
  EXPECT_NE(log[0].find("type=application/merge-patch+json"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("body={\"spec\":{\"replicas\":7}}"), std::string::npos) << log[0];
  EXPECT_EQ(*Current(*a), 7);
  ASSERT_TRUE(Set(*a, 0).ok());  // spec.replicas omitted when 0
  EXPECT_EQ(*Current(*a), 0);
  EXPECT_FALSE(Set(*a, -1).ok());
}

TEST_F(KubernetesActuatorTest, ReReadsTheRotatedToken) {
  auto a = Make();
  std::ofstream(token_path_) << "wrong";
  Result<int> denied = Current(*a);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("401"), std::string::npos) << denied.status().ToString();
  EXPECT_NE(denied.status().message().find("RBAC"), std::string::npos);
  std::ofstream(token_path_) << "secret-token";
  EXPECT_TRUE(Current(*a).ok());
}

TEST_F(KubernetesActuatorTest, ErrorStatuses) {
  auto missing = Make("no-such-deployment");
  Result<int> nf = Current(*missing);
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.status().code(), StatusCode::kNotFound);
  EXPECT_NE(nf.status().message().find("not found"), std::string::npos);

  auto a = Make();
  fake_.FailWith(409);
  Status conflict = Set(*a, 5);
  EXPECT_EQ(conflict.code(), StatusCode::kConflict);
  fake_.FailWith(403);
  EXPECT_EQ(Set(*a, 5).code(), StatusCode::kUnavailable);
  fake_.FailWith(500);
  Status err = Set(*a, 5);
  EXPECT_EQ(err.code(), StatusCode::kUnavailable);
  EXPECT_NE(err.message().find("injected failure 500"), std::string::npos) << err.ToString();
  EXPECT_EQ(fake_.replicas(), 3);
}

TEST_F(KubernetesActuatorTest, UnreachableApiServer) {
  KubernetesOptions o;
  o.api_url = "http://127.0.0.1:1";
  o.deployment = "dte-worker";
  o.token_path = token_path_;
  auto a = KubernetesActuator::Create(loop_.ioc().get_executor(), o);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(Current(**a).ok());
}

TEST(KubernetesOptionsTest, RefusesHttpsAndEmptyNames) {
  testing::Loop loop;
  KubernetesOptions o;
  o.deployment = "w";
  o.api_url = "https://10.0.0.1:443";
  Result<std::unique_ptr<KubernetesActuator>> a =
      KubernetesActuator::Create(loop.ioc().get_executor(), o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(a.status().message().find("kubectl proxy"), std::string::npos);
  o.api_url = "http://127.0.0.1:8001";
  o.deployment = "";
  EXPECT_FALSE(KubernetesActuator::Create(loop.ioc().get_executor(), o).ok());
}

TEST(KubernetesOptionsTest, FromEnvironment) {
  ::setenv("DTE_K8S_API_URL", "http://127.0.0.1:9999", 1);
  ::setenv("DTE_K8S_NAMESPACE", "prod", 1);
  KubernetesOptions o = KubernetesOptionsFromEnvironment("dte-worker");
  EXPECT_EQ(o.api_url, "http://127.0.0.1:9999");
  EXPECT_EQ(o.namespace_name, "prod");
  EXPECT_EQ(o.deployment, "dte-worker");
  ::unsetenv("DTE_K8S_API_URL");
  ::unsetenv("DTE_K8S_NAMESPACE");
  EXPECT_EQ(KubernetesOptionsFromEnvironment("x").api_url, "http://127.0.0.1:8001");
}

}  // namespace
}  // namespace dte::autoscale
