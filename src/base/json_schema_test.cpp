#include "base/json_schema.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dzong {
namespace {

using nlohmann::json;

constexpr char kSchema[] = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["name", "age"],
  "additionalProperties": false,
  "properties": {
    "name": {"$ref": "#/$defs/name"},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "tags": {"type": "array", "maxItems": 2, "uniqueItems": true, "items": {"enum": ["a", "b", "c"]}},
    "code": {"type": "string", "pattern": "^[A-Z]{3}$"}
  },
  "$defs": {"name": {"type": "string", "minLength": 2, "maxLength": 4}}
})";

std::vector<std::string> Problems(const JsonSchema& schema, const json& value) {
  std::vector<std::string> out;
  for (const auto& f : schema.Validate(value)) out.push_back(f.field + " " + f.rule);
  return out;
}

TEST(JsonSchemaTest, NamesEachProblemByPathAndRule) {
  auto schema = JsonSchema::Parse(kSchema);
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  EXPECT_TRUE(schema->Validate(json{{"name", "Dorji"}, {"age", 30}}).empty() == false) << "5 characters is too long";
  EXPECT_TRUE(schema->Validate(json{{"name", "ཀརྨ"}, {"age", 30}}).empty()) << "characters, not bytes: ཀརྨ is 3";
  EXPECT_EQ(Problems(*schema, json{{"age", -1}, {"colour", "red"}}),
            (std::vector<std::string>{"name required", "age minimum", "colour unknown_field"}));
  EXPECT_EQ(Problems(*schema, json{{"name", "Pem"}, {"age", 2.5}}), std::vector<std::string>{"age type"});
  EXPECT_EQ(Problems(*schema, json{{"name", "Pem"}, {"age", 1}, {"tags", {"a", "a", "d"}}}),
            (std::vector<std::string>{"tags max_items", "tags[1] unique_items", "tags[2] enum"}));
  EXPECT_EQ(Problems(*schema, json{{"name", "Pem"}, {"age", 1}, {"code", "abc"}}), std::vector<std::string>{"code pattern"});
  EXPECT_EQ(Problems(*schema, json::array()), std::vector<std::string>{" type"});
}

TEST(JsonSchemaTest, RefusesASchemaThatWouldCheckLessThanItSays) {
  EXPECT_EQ(JsonSchema::Parse(R"({"type": "string", "format": "email"})").error().code, "schema.invalid");
  EXPECT_EQ(JsonSchema::Parse(R"({"$ref": "#/$defs/missing"})").error().code, "schema.invalid");
  EXPECT_EQ(JsonSchema::Parse(R"({"pattern": "(["})").error().code, "schema.invalid");
  EXPECT_EQ(JsonSchema::Parse("not json").error().code, "schema.invalid");
}

}  // namespace
}  // namespace dzong
