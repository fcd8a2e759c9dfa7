#pragma once
// JSON Schema (draft 2020-12) validation for the schemas Dzong keeps in the
// repository. It supports the keywords those schemas use and refuses a
// schema with any other validation keyword, so a schema never checks less
// than it says.

#include <memory>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace dzong {

class JsonSchema {
 public:
  /// Parses and checks a schema. Supported: type, enum, const, properties,
  /// required, additionalProperties, items, minItems, maxItems,
  /// uniqueItems, minLength, maxLength (in characters), pattern, minimum,
  /// maximum, $ref to "#/$defs/…", allOf, anyOf, oneOf; annotations
  /// ($schema, $id, title, description, $defs) are read and ignored.
  /// Errors: schema.invalid (an unsupported keyword, a bad pattern or $ref).
  static Result<JsonSchema> Parse(std::string_view text);
  ~JsonSchema();
  JsonSchema(JsonSchema&&) noexcept;
  JsonSchema& operator=(JsonSchema&&) noexcept;

  /// Every problem of `instance`, each named by its path ("form.pages[0].id"),
  /// the rule it breaks (type, required, unknown_field, enum, pattern,
  /// min_length, max_length, minimum, maximum, min_items, max_items,
  /// unique_items, const, one_of, any_of) and a sentence.
  std::vector<FieldError> Validate(const nlohmann::json& instance) const;

 private:
  struct Compiled;
  explicit JsonSchema(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace dzong
