// getip: the official name and every address of a name from /etc/hosts (no DNS).
#include <gtest/gtest.h>

#include "process.hpp"

namespace examples_test {
namespace {

TEST(GetipExample, PrintsTheNameAndAddressOfLocalhost) {
  Outcome outcome = run(EXAMPLE_GETIP, {"localhost"});
  ASSERT_EQ(exit_code(outcome.status), 0) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  EXPECT_TRUE(outcome.out.starts_with("name    localhost\n")) << outcome.out;
  EXPECT_NE(outcome.out.find("\naddress 127.0.0.1\n"), std::string::npos) << outcome.out;
}

TEST(GetipExample, ANumericAddressIsItsOwnAnswer) {
  Outcome outcome = run(EXAMPLE_GETIP, {"127.0.0.1"});
  ASSERT_EQ(exit_code(outcome.status), 0) << outcome.err;
  EXPECT_EQ(outcome.out, "name    127.0.0.1\naddress 127.0.0.1\n");
}

}  // namespace
}  // namespace examples_test
