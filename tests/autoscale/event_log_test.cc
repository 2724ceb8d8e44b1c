// The bounded ring of scaling events and its JSON.

#include "autoscale/event_log.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace dte::autoscale {
namespace {

ScalingEvent Event(int from, int to) {
  ScalingEvent e;
  e.from = from;
  e.to = to;
  e.kind = to > from ? "scale_up" : "scale_down";
  e.reason = "because";
  e.inputs = {{"load", 0.9}};
  return e;
}

TEST(EventLogTest, KeepsTheNewestInOrder) {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) log.Append(Event(i, i + 1));
  EXPECT_EQ(log.total(), 5u);
  std::vector<ScalingEvent> all = log.Recent();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].from, 2);
  EXPECT_EQ(all[2].from, 4);
  EXPECT_EQ(all[2].seq, 5u);
  EXPECT_GT(all[2].unix_ms, 0);
  std::vector<ScalingEvent> last = log.Recent(1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].seq, 5u);
}

TEST(EventLogTest, Json) {
  EventLog log(8);
  log.Append(Event(2, 4));
  nlohmann::json j = log.ToJson();
  EXPECT_EQ(j["total"], 1);
  EXPECT_EQ(j["capacity"], 8);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["from"], 2);
  EXPECT_EQ(j["events"][0]["to"], 4);
  EXPECT_EQ(j["events"][0]["kind"], "scale_up");
  EXPECT_EQ(j["events"][0]["reason"], "because");
  EXPECT_DOUBLE_EQ(j["events"][0]["inputs"]["load"].get<double>(), 0.9);
}

TEST(EventLogTest, ConcurrentWritersAndReaders) {
  EventLog log(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        log.Append(Event(1, 2));
        (void)log.Recent(4);
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(log.total(), 4000u);
  std::vector<ScalingEvent> all = log.Recent();
  ASSERT_EQ(all.size(), 16u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].seq, all[i - 1].seq + 1);
}

}  // namespace
}  // namespace dte::autoscale
