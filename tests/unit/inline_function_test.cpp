// InlineFunction: calling, moving, resetting, and exactly-once destruction of what it holds.
#include "sockit/inline_function.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

namespace sockit {
namespace {

// Counts the destructions of live objects (a moved-from Tracker is not live), so the count
// says how many times a captured object was really destroyed.
struct Tracker {
  static inline int destroyed = 0;
  static inline int live = 0;
  bool owns = true;
  int value = 0;

  explicit Tracker(int v) : value(v) { ++live; }
  Tracker(Tracker&& other) noexcept : owns(std::exchange(other.owns, false)), value(other.value) {}
  Tracker& operator=(Tracker&&) = delete;
  Tracker(const Tracker&) = delete;
  ~Tracker() {
    if (owns) {
      ++destroyed;
      --live;
    }
  }
};

class InlineFunctionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Tracker::destroyed = 0;
    Tracker::live = 0;
  }
  void TearDown() override { EXPECT_EQ(Tracker::live, 0) << "a captured object leaked"; }
};

TEST_F(InlineFunctionTest, EmptyByDefault) {
  InlineFunction<void()> f;
  EXPECT_FALSE(f);
  InlineFunction<void()> g = nullptr;
  EXPECT_FALSE(g);
}

TEST_F(InlineFunctionTest, CallsWithArgumentsAndReturnsTheResult) {
  int base = 10;
  InlineFunction<int(int, int)> add = [&base](int a, int b) { return base + a + b; };
  ASSERT_TRUE(add);
  EXPECT_EQ(add(1, 2), 13);
  base = 20;
  EXPECT_EQ(add(1, 2), 23);
}

TEST_F(InlineFunctionTest, MutableStateSurvivesCalls) {
  InlineFunction<int()> counter = [n = 0]() mutable { return ++n; };
  EXPECT_EQ(counter(), 1);
  EXPECT_EQ(counter(), 2);
  EXPECT_EQ(counter(), 3);
}

TEST_F(InlineFunctionTest, ForwardsReferenceArguments) {
  InlineFunction<void(std::string&)> append = [](std::string& s) { s += "!"; };
  std::string s = "hi";
  append(s);
  EXPECT_EQ(s, "hi!");
}

TEST_F(InlineFunctionTest, MoveConstructionTransfersTheCallable) {
  InlineFunction<int()> a = [t = Tracker(7)] { return t.value; };
  EXPECT_EQ(Tracker::live, 1);
  InlineFunction<int()> b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  ASSERT_TRUE(b);
  EXPECT_EQ(b(), 7);
  EXPECT_EQ(Tracker::live, 1);
  EXPECT_EQ(Tracker::destroyed, 0);
}

TEST_F(InlineFunctionTest, MoveAssignmentDestroysTheOldCallable) {
  InlineFunction<int()> a = [t = Tracker(1)] { return t.value; };
  InlineFunction<int()> b = [t = Tracker(2)] { return t.value; };
  EXPECT_EQ(Tracker::live, 2);
  a = std::move(b);
  EXPECT_EQ(Tracker::destroyed, 1);  // the Tracker(1) that `a` held
  EXPECT_EQ(Tracker::live, 1);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a(), 2);

  InlineFunction<int()> empty;
  a = std::move(empty);
  EXPECT_FALSE(a);
  EXPECT_EQ(Tracker::destroyed, 2);
}

TEST_F(InlineFunctionTest, SelfMoveAssignmentKeepsTheCallable) {
  InlineFunction<int()> a = [t = Tracker(5)] { return t.value; };
  InlineFunction<int()>& alias = a;
  a = std::move(alias);
  ASSERT_TRUE(a);
  EXPECT_EQ(a(), 5);
  EXPECT_EQ(Tracker::destroyed, 0);
}

TEST_F(InlineFunctionTest, ResetDestroysOnceAndEmpties) {
  InlineFunction<int()> f = [t = Tracker(3)] { return t.value; };
  f.reset();
  EXPECT_FALSE(f);
  EXPECT_EQ(Tracker::destroyed, 1);
  f.reset();  // again: nothing left to destroy
  EXPECT_EQ(Tracker::destroyed, 1);
}

TEST_F(InlineFunctionTest, DestructorRunsCapturedDestructorExactlyOnce) {
  {
    InlineFunction<int()> f = [t = Tracker(4)] { return t.value; };
    InlineFunction<int()> g = std::move(f);
    InlineFunction<int()> h;
    h = std::move(g);
    EXPECT_EQ(h(), 4);
    EXPECT_EQ(Tracker::destroyed, 0);
  }
  EXPECT_EQ(Tracker::destroyed, 1);
}

TEST_F(InlineFunctionTest, MoveOnlyCaptures) {
  auto owned = std::make_unique<int>(99);
  int* raw = owned.get();
  InlineFunction<int*()> f = [p = std::move(owned)] { return p.get(); };
  InlineFunction<int*()> g = std::move(f);
  EXPECT_EQ(g(), raw);
  EXPECT_EQ(*g(), 99);

  // A shared_ptr shows the captured copy is released when the function goes away.
  auto shared = std::make_shared<int>(1);
  InlineFunction<long()> h = [s = shared] { return s.use_count(); };
  EXPECT_EQ(shared.use_count(), 2);
  h.reset();
  EXPECT_EQ(shared.use_count(), 1);
}

TEST_F(InlineFunctionTest, FunctionPointerAndLargestCapture) {
  InlineFunction<int(int)> f = +[](int x) { return x * 2; };
  EXPECT_EQ(f(21), 42);

  struct Big {
    char bytes[48];
  };
  Big big{};
  big.bytes[47] = 9;
  InlineFunction<int()> g = [big] { return big.bytes[47]; };
  EXPECT_EQ(g(), 9);
}

}  // namespace
}  // namespace sockit
