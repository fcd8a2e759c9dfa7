#include "base/jcs.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dzong {
namespace {

using nlohmann::json;

std::string C(const json& v) { return Canonical(v).value(); }

// RFC 8785 section 3.2.2.3 and Appendix B: numbers as ECMAScript writes them.
TEST(Canonical, NumbersAsEcmaScriptWritesThem) {
  EXPECT_EQ(C(json::parse("[1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, 333333333.33333329, 1e21, 1e20]")),
            "[1e+30,4.5,0.002,1e-27,0,333333333.3333333,1e+21,100000000000000000000]");
  EXPECT_EQ(C(json(9007199254740992.0)), "9007199254740992");
  EXPECT_EQ(C(json(-5e-7)), "-5e-7");
  EXPECT_EQ(C(json(42)), "42");
}

// The example of RFC 8785 section 3.2.3: members sorted by UTF-16 code units.
TEST(Canonical, SortsMembersByUtf16CodeUnits) {
  const json v = json::parse(R"({"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"})");
  EXPECT_EQ(C(v),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
            "Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":"
            "\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(Canonical, EscapesOnlyWhatJsonStringifyEscapes) {
  EXPECT_EQ(C(json("a\"b\\c\n\x1f/€ སྐྱེས")), "\"a\\\"b\\\\c\\n\\u001f/€ སྐྱེས\"");
  EXPECT_EQ(C(json::parse(R"({"b": [true, null, {"z": 1, "a": "x"}], "a": {}})")),
            R"({"a":{},"b":[true,null,{"a":"x","z":1}]})");
}

TEST(Canonical, RefusesWhatJsonCannotSay) {
  auto bad = Canonical(json(std::string("\xff")));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "jcs.invalid");
}

}  // namespace
}  // namespace dzong
