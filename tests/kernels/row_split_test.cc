// SplitRowsStealing (src/kernels/row_split.h): every row exactly once, range bounds on the
// grain, stream_end at or past the range's end, for pools of 1 to 5 threads (more threads than
// this machine's cores, so threads start late and their regions are stolen).

#include "kernels/row_split.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "base/thread_pool.h"

namespace dte::internal {
namespace {

struct Claim {
  int64_t begin, end, stream_end;
};

std::vector<Claim> Split(int64_t rows, int64_t grain, ThreadPool* pool) {
  std::vector<Claim> claims;
  std::mutex mu;
  SplitRowsStealing(rows, grain, /*min_rows=*/0, pool,
                    [&](int64_t begin, int64_t end, int64_t stream_end) {
                      std::lock_guard<std::mutex> lock(mu);
                      claims.push_back({begin, end, stream_end});
                    });
  return claims;
}

TEST(RowSplitTest, EveryRowOnceOnTheGrain) {
  for (int threads = 1; threads <= 5; ++threads) {
    ThreadPool pool(threads);
    for (int64_t rows : {1, 7, 8, 9, 64, 100, 768, 3072, 65536}) {
      for (int64_t grain : {1, 8}) {
        for (int repeat = 0; repeat < 20; ++repeat) {
          SCOPED_TRACE(testing::Message() << threads << " threads, " << rows << " rows, grain "
                                          << grain);
          std::vector<int> seen(static_cast<size_t>(rows), 0);
          for (const Claim& c : Split(rows, grain, &pool)) {
            ASSERT_LT(c.begin, c.end);
            ASSERT_LE(c.end, rows);
            ASSERT_GE(c.stream_end, c.end);
            ASSERT_LE(c.stream_end, rows);
            EXPECT_EQ(c.begin % grain, 0);
            if (c.end != rows) {
              EXPECT_EQ(c.end % grain, 0);
            }
            for (int64_t r = c.begin; r < c.end; ++r) ++seen[static_cast<size_t>(r)];
          }
          for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << r;
        }
      }
    }
  }
}

TEST(RowSplitTest, InlineBelowMinRows) {
  ThreadPool pool(2);
  int calls = 0;
  SplitRowsStealing(100, 8, /*min_rows=*/100, &pool, [&](int64_t b, int64_t e, int64_t s) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 100);
    EXPECT_EQ(s, 100);
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace dte::internal
