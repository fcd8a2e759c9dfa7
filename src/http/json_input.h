#pragma once
// Reading a JSON request body into a struct, collecting every problem with
// the field and the rule it broke, so the caller hears about all of them at
// once and nothing is written.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {

/// Parses the body as a JSON object. Errors: request.unsupported_media_type
/// (Content-Type is not application/json), request.malformed_json (not JSON,
/// or not an object).
Result<nlohmann::json> ParseJsonObject(const Request& request);

/// A JSON answer with this status. Text that is not UTF-8 is replaced
/// (U+FFFD) rather than failing the answer.
Response JsonResponse(int status, const nlohmann::json& body);

/// Reads fields of one JSON object; unknown fields are errors.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::vector<std::string> allowed);

  /// A string that must be present. Length in Unicode code points.
  std::optional<std::string> RequiredString(const std::string& name, std::size_t min_length, std::size_t max_length);
  /// A string that may be absent (nullopt) or null (Present with no value).
  struct Optional {
    bool present = false;
    std::optional<std::string> value;  ///< empty when the field is null
  };
  Optional OptionalString(const std::string& name, std::size_t min_length, std::size_t max_length);
  std::optional<std::int64_t> OptionalInteger(const std::string& name, std::int64_t min, std::int64_t max);

  /// Records a problem found by the caller's own rules.
  void Fail(std::string field, std::string rule, std::string message);
  bool Has(const std::string& name) const;

  /// request.invalid with every field error, or OK.
  Status Finish();

 private:
  const nlohmann::json& object_;
  std::vector<std::string> allowed_;
  std::vector<FieldError> errors_;
};

/// Number of Unicode code points in valid UTF-8 text; nullopt if not UTF-8.
std::optional<std::size_t> Utf8Length(std::string_view text);

}  // namespace dzong::http
