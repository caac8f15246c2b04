#include "json_writer.hpp"

#include <gtest/gtest.h>

namespace sockit::cli {
namespace {

TEST(JsonWriter, WritesNestedObjectsAndArrays) {
  JsonWriter json;
  json.begin_object().field("name", "localhost").field("port", std::int64_t{80});
  json.begin_array("ipv4").value("127.0.0.1").value("127.0.1.1").end_array();
  json.begin_array("empty").end_array();
  json.field("ok", true).key("none").null().field("rtt", 1.5).end_object();
  EXPECT_EQ(json.str(),
            R"({"name":"localhost","port":80,"ipv4":["127.0.0.1","127.0.1.1"],"empty":[],)"
            R"("ok":true,"none":null,"rtt":1.500})");
}

TEST(JsonWriter, EscapesEverythingJsonRequires) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\nd\te\x01\x7f\0z", 13));
  EXPECT_EQ(out, R"("a\"b\\c\nd\te\u0001\u007f\u0000z")");
}

TEST(JsonWriter, KeepsBytesAbove127AsTheyAre) {
  std::string out;
  append_json_string(out, "caf\xc3\xa9");
  EXPECT_EQ(out, "\"caf\xc3\xa9\"");
}

TEST(JsonWriter, WritesNonFiniteNumbersAsNull) {
  JsonWriter json;
  json.begin_object().field("x", 1.0 / 0.0).end_object();
  EXPECT_EQ(json.str(), R"({"x":null})");
}

}  // namespace
}  // namespace sockit::cli
