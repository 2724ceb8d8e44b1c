// deploy/k8s: runs tests/autoscale/check_k8s_manifests.py (PyYAML: Debian python3-yaml) on the
// real manifests, and on a copy with a port broken on purpose, which it must reject.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CheckRun {
  int status = -1;
  std::string output;
};

CheckRun Check(const std::string& dir) {
  const std::string cmd = "python3 " + std::string(DTE_SOURCE_DIR) +
                          "/tests/autoscale/check_k8s_manifests.py '" + dir + "' 2>&1";
  CheckRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

bool HavePyYaml() { return std::system("python3 -c 'import yaml' >/dev/null 2>&1") == 0; }

TEST(DeployManifestsTest, ParseAndAgreeOnNamesPortsAndLabels) {
  if (!HavePyYaml()) GTEST_SKIP() << "python3 with PyYAML (python3-yaml) is not installed";
  CheckRun r = Check(std::string(DTE_SOURCE_DIR) + "/deploy/k8s");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 problem(s)"), std::string::npos) << r.output;
}

TEST(DeployManifestsTest, TheCheckCatchesABrokenPort) {
  if (!HavePyYaml()) GTEST_SKIP() << "python3 with PyYAML (python3-yaml) is not installed";
  const fs::path dir = fs::path(::testing::TempDir()) / ("dte_k8s_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(fs::path(DTE_SOURCE_DIR) / "deploy/k8s", dir, fs::copy_options::recursive);
  std::ifstream in(dir / "worker.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const size_t at = text.find("--port=9001");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "--port=9002");
  std::ofstream(dir / "worker.yaml") << text;
  CheckRun r = Check(dir.string());
  fs::remove_all(dir);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--port 9002 is not its containerPort"), std::string::npos) << r.output;
}

}  // namespace
