#include "http/json_input.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dzong::http {

std::optional<std::size_t> Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return std::nullopt;
    }
    i += n;
    ++count;
  }
  return count;
}

Response JsonResponse(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Result<nlohmann::json> ParseJsonObject(const Request& request) {
  const std::string_view type = request.HeaderValue("Content-Type");
  const std::string_view media = type.substr(0, type.find(';'));
  if (media != "application/json") {
    return Error(errc::kUnsupportedMediaType, "send the body as JSON with Content-Type: application/json");
  }
  nlohmann::json parsed = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Error(errc::kMalformedJson, "the request body is not valid JSON");
  if (!parsed.is_object()) return Error(errc::kMalformedJson, "the request body must be a JSON object");
  return parsed;
}

ObjectReader::ObjectReader(const nlohmann::json& object, std::vector<std::string> allowed)
    : object_(object), allowed_(std::move(allowed)) {}

bool ObjectReader::Has(const std::string& name) const { return object_.contains(name); }

void ObjectReader::Fail(std::string field, std::string rule, std::string message) {
  errors_.push_back({std::move(field), std::move(rule), std::move(message)});
}

std::optional<std::string> ObjectReader::RequiredString(const std::string& name, std::size_t min_length,
                                                        std::size_t max_length) {
  if (!object_.contains(name) || object_.at(name).is_null()) {
    Fail(name, "required", fmt::format("{} is required", name));
    return std::nullopt;
  }
  Optional read = OptionalString(name, min_length, max_length);
  return read.value;
}

ObjectReader::Optional ObjectReader::OptionalString(const std::string& name, std::size_t min_length,
                                                    std::size_t max_length) {
  Optional out;
  if (!object_.contains(name)) return out;
  out.present = true;
  const nlohmann::json& v = object_.at(name);
  if (v.is_null()) return out;
  if (!v.is_string()) {
    Fail(name, "type", fmt::format("{} must be a string", name));
    return out;
  }
  const auto& text = v.get_ref<const std::string&>();
  const auto length = Utf8Length(text);
  if (!length) {
    Fail(name, "encoding", fmt::format("{} must be UTF-8 text", name));
  } else if (*length < min_length) {
    Fail(name, min_length == 1 ? "required" : "min_length",
         min_length == 1 ? fmt::format("{} must not be empty", name)
                         : fmt::format("{} must be at least {} characters", name, min_length));
  } else if (*length > max_length) {
    Fail(name, "max_length", fmt::format("{} must be at most {} characters", name, max_length));
  } else {
    out.value = text;
  }
  return out;
}

std::optional<std::int64_t> ObjectReader::OptionalInteger(const std::string& name, std::int64_t min,
                                                          std::int64_t max) {
  if (!object_.contains(name)) return std::nullopt;
  const nlohmann::json& v = object_.at(name);
  if (!v.is_number_integer()) {
    Fail(name, "type", fmt::format("{} must be an integer", name));
    return std::nullopt;
  }
  const auto n = v.get<std::int64_t>();
  if (n < min || n > max) {
    Fail(name, "range", fmt::format("{} must be between {} and {}", name, min, max));
    return std::nullopt;
  }
  return n;
}

Status ObjectReader::Finish() {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
      Fail(key, "unknown_field", fmt::format("{} is not a field here; allowed: {}", key, fmt::join(allowed_, ", ")));
    }
  }
  if (errors_.empty()) return {};
  // The message is made before the errors move into the Error.
  std::string message =
      errors_.size() == 1 ? errors_[0].message : fmt::format("{} fields need attention", errors_.size());
  return Error(errc::kValidation, std::move(message), std::move(errors_));
}

}  // namespace dzong::http
