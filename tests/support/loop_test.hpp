// LoopTest: a GoogleTest fixture owning one EventLoop, which every loop test ends by
// checking is empty — no watch, timer or signal left registered (libuv's habit).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "sockit/event_loop.hpp"

namespace sockit::test {

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = EventLoop::create();
    ASSERT_TRUE(created) << created.error().message();
    loop = std::move(created).value();
  }
  void TearDown() override {
    if (!loop) return;
    EXPECT_EQ(loop->watch_count(), 0u);
    EXPECT_EQ(loop->timer_count(), 0u);
    EXPECT_EQ(loop->signal_count(), 0u);
    EXPECT_TRUE(loop->idle());
  }

  std::unique_ptr<EventLoop> loop;
};

}  // namespace sockit::test
