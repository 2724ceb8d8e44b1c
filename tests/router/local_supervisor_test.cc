// LocalWorkerSupervisor with a stand-in worker: a shell script that prints the "listening on"
// line `dte serve` prints and serves GET /ready with python3's http.server (a file called
// "ready"). Real processes, real sockets; the full `dte up` is covered by the system tests.
#include "router/local_supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

namespace dte::router {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class LocalWorkerSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v python3 >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "python3 not installed";
    dir_ = fs::path(::testing::TempDir()) / ("dte_supervisor_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "ready") << "ok\n";
    script_ = (dir_ / "fake_worker.sh").string();
    std::ofstream s(script_);
    s << "#!/bin/sh\n"
         "[ \"$1\" = serve ] || exit 2\n"
         "port=$(python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
         "print(s.getsockname()[1]); s.close()')\n"
         "echo \"listening on http://127.0.0.1:$port\"\n"
         "exec python3 -m http.server $port --bind 127.0.0.1 --directory "
      << dir_.string() << " 2>/dev/null\n";
    s.close();
    chmod(script_.c_str(), 0755);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  WorkerSpec Spec() {
    WorkerSpec spec;
    spec.binary = script_;
    spec.ready_timeout = 20s;
    spec.kill_timeout = 5s;
    spec.restart_backoff = 100ms;
    return spec;
  }

  fs::path dir_;
  std::string script_;
  boost::asio::io_context io_;
  BackendPool pool_{io_.get_executor()};
};

TEST_F(LocalWorkerSupervisorTest, SpawnsStopsAndRestartsWorkers) {
  std::vector<pid_t> pids;
  {
    LocalWorkerSupervisor supervisor(Spec(), pool_);
    auto a = supervisor.Spawn();
    auto b = supervisor.Spawn();
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_NE(*a, *b);
    EXPECT_EQ(supervisor.size(), 2u);
    EXPECT_EQ(pool_.size(), 2u);
    EXPECT_TRUE(pool_.Find(*a));

    // A worker that dies is replaced on a new port.
    supervisor.StartMonitor(20ms);
    pid_t victim = 0;
    for (const WorkerInfo& w : supervisor.Workers())
      if (w.url == *a) victim = w.pid;
    ASSERT_GT(victim, 0);
    kill(victim, SIGKILL);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (supervisor.restarts() == 0 || supervisor.size() < 2) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no replacement";
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(pool_.Find(*a)) << "the dead worker is out of the pool";
    EXPECT_EQ(pool_.size(), 2u);

    // Scale-in picks one, drains it (nothing in flight) and stops it.
    auto stopped = supervisor.StopOne(/*drain=*/true);
    ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
    EXPECT_EQ(supervisor.size(), 1u);
    EXPECT_FALSE(pool_.Find(*stopped));
    EXPECT_EQ(supervisor.Stop(*stopped, true).code(), StatusCode::kNotFound);
    for (const WorkerInfo& w : supervisor.Workers()) pids.push_back(w.pid);
  }  // the destructor stops the rest
  EXPECT_EQ(pool_.size(), 0u);
  for (pid_t pid : pids)
    EXPECT_NE(kill(pid, 0), 0) << "worker " << pid << " outlived its supervisor";
}

TEST_F(LocalWorkerSupervisorTest, AWorkerThatNeverListensIsReportedNotLeaked) {
  std::ofstream(script_) << "#!/bin/sh\necho 'no port here'\nexec sleep 30\n";
  LocalWorkerSupervisor supervisor(Spec(), pool_);
  auto r = supervisor.Spawn();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(supervisor.size(), 0u);
  EXPECT_EQ(pool_.size(), 0u);
}

}  // namespace
}  // namespace dte::router
