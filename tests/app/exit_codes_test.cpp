#include "exit_codes.hpp"

#include <gtest/gtest.h>
#include <netdb.h>

namespace sockit::cli {
namespace {

int code_of(std::error_code code) {
  return exit_code_for(Error(code, "x"));
}
int code_of(std::errc e) {
  return code_of(std::make_error_code(e));
}

TEST(ExitCodes, FollowSysexits) {
  EXPECT_EQ(code_of(make_error_code(ParseErrc::bad_port)), kUsage);
  EXPECT_EQ(code_of(std::error_code(EAI_NONAME, gai_category())), kUnknownHost);
  EXPECT_EQ(code_of(std::error_code(EAI_AGAIN, gai_category())), kTimedOut);
  EXPECT_EQ(code_of(std::errc::connection_refused), kUnavailable);
  EXPECT_EQ(code_of(std::errc::address_in_use), kUnavailable);
  EXPECT_EQ(code_of(std::errc::timed_out), kTimedOut);
  EXPECT_EQ(code_of(std::errc::permission_denied), kPermission);
  EXPECT_EQ(code_of(std::errc::operation_not_permitted), kPermission);
  EXPECT_EQ(code_of(std::errc::connection_reset), kIoError);
  EXPECT_EQ(code_of(std::errc::broken_pipe), kIoError);
}

TEST(ExitCodes, ReportWritesOneLineWithContextAndReason) {
  testing::internal::CaptureStderr();
  report(Error(std::make_error_code(std::errc::connection_refused), "connect 127.0.0.1:9"));
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "sockit: connect 127.0.0.1:9: Connection refused\n");
}

}  // namespace
}  // namespace sockit::cli
