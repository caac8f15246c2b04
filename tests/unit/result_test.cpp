// Result<T>, Result<void>, Error and the error categories (parse, getaddrinfo).
#include "sockit/result.hpp"

#include <gtest/gtest.h>
#include <netdb.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

namespace sockit {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error(ParseErrc::bad_number, "half " + std::to_string(n));
  return n / 2;
}

TEST(Result, HoldsAValue) {
  auto r = half(8);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 4);
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.value_or(-1), 4);
}

TEST(Result, HoldsAnError) {
  auto r = half(7);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code(), ParseErrc::bad_number);
  EXPECT_EQ(r.error().context(), "half 7");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, ArrowReachesTheValue) {
  Result<std::string> r = std::string("hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 5u);
  const Result<std::string>& c = r;
  EXPECT_EQ(c->front(), 'h');
  EXPECT_EQ(*c, "hello");
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 42);

  Result<std::unique_ptr<int>> moved = std::move(r);
  ASSERT_TRUE(moved);
  EXPECT_EQ(*moved.value(), 42);

  std::unique_ptr<int> out = std::move(moved).value();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 42);
}

TEST(Result, MoveOnlyValueMoveAssignment) {
  Result<std::unique_ptr<int>> a = std::make_unique<int>(1);
  Result<std::unique_ptr<int>> b = std::make_unique<int>(2);
  a = std::move(b);
  ASSERT_TRUE(a);
  EXPECT_EQ(**a, 2);

  Result<std::unique_ptr<int>> failed = Error(ParseErrc::empty, "x");
  a = std::move(failed);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), ParseErrc::empty);
}

TEST(Result, CopyKeepsBothIndependent) {
  Result<std::string> a = std::string("abc");
  Result<std::string> b = a;
  ASSERT_TRUE(b);
  b->push_back('d');
  EXPECT_EQ(*a, "abc");
  EXPECT_EQ(*b, "abcd");

  Result<std::string> e = Error(ParseErrc::bad_port, "ctx");
  Result<std::string> e2 = e;
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().context(), "ctx");
  EXPECT_EQ(e.error().context(), "ctx");
}

TEST(Result, AssignmentBetweenStates) {
  Result<std::string> r = std::string("value");
  const Result<std::string> err = Error(ParseErrc::bad_range, "range");
  const Result<std::string> val = std::string("other");

  r = err;  // value -> error
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ParseErrc::bad_range);
  EXPECT_EQ(r.error().context(), "range");

  r = err;  // error -> error
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context(), "range");

  r = val;  // error -> value
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "other");

  r = val;  // value -> value
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "other");

  r = r;  // self-assignment keeps the value
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "other");
}

TEST(Result, ErrorCanBeMovedOut) {
  Result<int> r = Error(ParseErrc::empty, "thing");
  Error e = std::move(r).error();
  EXPECT_EQ(e.code(), ParseErrc::empty);
  EXPECT_EQ(e.context(), "thing");
}

TEST(Result, ValueDestroyedExactlyOnce) {
  auto counter = std::make_shared<int>(0);
  {
    Result<std::shared_ptr<int>> a = counter;
    Result<std::shared_ptr<int>> b = a;
    Result<std::shared_ptr<int>> c = std::move(a);
    EXPECT_EQ(counter.use_count(), 3);  // counter, b and c; the moved-from a holds null
    b = Error(ParseErrc::empty, "");
    EXPECT_EQ(counter.use_count(), 2);
  }
  EXPECT_EQ(counter.use_count(), 1);
}

TEST(ResultVoid, SuccessAndFailure) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  ok.value();  // callable, does nothing

  Result<void> bad = Error::from_errno(ECONNRESET, "recv");
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().is(std::errc::connection_reset));
  EXPECT_EQ(bad.error().context(), "recv");

  Result<void> copy = bad;
  ASSERT_FALSE(copy);
  EXPECT_EQ(copy.error().code(), bad.error().code());

  copy = ok;
  EXPECT_TRUE(copy);

  Error moved = std::move(bad).error();
  EXPECT_EQ(moved.context(), "recv");
}

// value() on an error is a caller bug: it aborts with the error's message (there is no
// exception to throw), rather than reading a value that isn't there.
TEST(ResultDeathTest, ValueOnAnErrorAbortsWithTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> r = Error::from_errno(ECONNREFUSED, "connect 127.0.0.1:9");
  EXPECT_DEATH((void)r.value(),
               "Result::value\\(\\) called on an error: connect 127.0.0.1:9: Connection refused");
  Result<void> v = Error(ParseErrc::empty, "thing");
  EXPECT_DEATH(v.value(), "called on an error: thing: empty input");
}

TEST(Error, MessageIsContextColonReason) {
  Error e = Error::from_errno(ECONNREFUSED, "connect 127.0.0.1:9");
  EXPECT_EQ(e.message(), "connect 127.0.0.1:9: " + std::system_category().message(ECONNREFUSED));
  EXPECT_EQ(e.message(), "connect 127.0.0.1:9: Connection refused");
}

TEST(Error, MessageWithoutContextIsTheReason) {
  Error e(std::error_code(ETIMEDOUT, std::system_category()), "");
  EXPECT_EQ(e.message(), std::system_category().message(ETIMEDOUT));
}

TEST(Error, FromErrnoReadsErrno) {
  errno = EMFILE;
  Error e = Error::from_errno("accept");
  EXPECT_EQ(e.code().value(), EMFILE);
  EXPECT_EQ(e.code().category(), std::system_category());
  EXPECT_TRUE(e.is(std::errc::too_many_files_open));
}

TEST(Error, IsMatchesOnlyTheRightCondition) {
  Error e = Error::from_errno(EAGAIN, "recv");
  EXPECT_TRUE(e.is(std::errc::resource_unavailable_try_again));
  EXPECT_FALSE(e.is(std::errc::connection_refused));

  // A parse error is not any system condition, even with a colliding value.
  Error p(make_error_code(ParseErrc::empty), "x");
  EXPECT_FALSE(p.is(static_cast<std::errc>(static_cast<int>(ParseErrc::empty))));

  Error none;
  EXPECT_FALSE(none.code());
}

TEST(ParseCategory, NamesAndMessages) {
  EXPECT_STREQ(parse_category().name(), "sockit.parse");
  std::error_code ec = ParseErrc::port_out_of_range;  // implicit: is_error_code_enum
  EXPECT_EQ(ec.category(), parse_category());
  EXPECT_EQ(ec.message(), "port out of range (0-65535)");
  EXPECT_EQ(make_error_code(ParseErrc::missing_port).message(),
            "missing port (expected HOST:PORT)");
  EXPECT_EQ(make_error_code(ParseErrc::needs_brackets).message(),
            "IPv6 address with a port needs brackets: [ADDR]:PORT");
  for (int v = static_cast<int>(ParseErrc::empty); v <= static_cast<int>(ParseErrc::bad_range);
       ++v) {
    std::string m = std::error_code(v, parse_category()).message();
    EXPECT_FALSE(m.empty()) << v;
    EXPECT_NE(m, "invalid input") << "ParseErrc " << v << " has no message of its own";
  }
  EXPECT_EQ(std::error_code(999, parse_category()).message(), "invalid input");
}

TEST(GaiCategory, MessagesComeFromGaiStrerror) {
  EXPECT_STREQ(gai_category().name(), "getaddrinfo");
  for (int code : {EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_FAMILY, EAI_SERVICE, EAI_ADDRFAMILY}) {
    EXPECT_EQ(std::error_code(code, gai_category()).message(), ::gai_strerror(code)) << code;
  }
  EXPECT_EQ(std::error_code(EAI_NONAME, gai_category()).message(), "Name or service not known");
  Error e(std::error_code(EAI_NONAME, gai_category()), "resolve no-such.test");
  EXPECT_EQ(e.message(), "resolve no-such.test: Name or service not known");
  EXPECT_FALSE(e.is(std::errc::connection_refused));
}

}  // namespace
}  // namespace sockit
