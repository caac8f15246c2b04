// The CPU helpers of the system-call seam that `serve --pin` and `bench --pin` use: which
// CPUs the process may run on, and pinning a thread to one of them.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "sys/sys.hpp"

namespace sockit::sys {
namespace {

TEST(SysCpu, UsableCpusAreTheAffinityMaskInOrder) {
  auto cpus = usable_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  EXPECT_EQ(std::adjacent_find(cpus.begin(), cpus.end()), cpus.end()) << "no duplicates";
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(static_cast<int>(cpus.size()), CPU_COUNT(&set));
  for (int cpu : cpus)
    EXPECT_TRUE(CPU_ISSET(cpu, &set)) << cpu;
}

TEST(SysCpu, APinnedThreadRunsOnlyThere) {
  const int last = usable_cpus().back();
  int ran_on = -1, err = -1;
  std::thread([&] {
    err = pin_this_thread(last);
    ran_on = sched_getcpu();
  }).join();
  EXPECT_EQ(err, 0);
  EXPECT_EQ(ran_on, last);
}

TEST(SysCpu, ImpossibleCpusAreRefused) {
  std::thread([] {
    EXPECT_EQ(pin_this_thread(-1), EINVAL);
    EXPECT_EQ(pin_this_thread(CPU_SETSIZE), EINVAL);
  }).join();
}

}  // namespace
}  // namespace sockit::sys
