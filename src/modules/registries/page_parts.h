#pragma once
// What the registries' pages share (internal to the module): field labels
// in the page's language, values as text, and field problems as sentences.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "http/message.h"
#include "modules/registries/registries.h"
#include "web/web.h"

namespace dzong::registries::pages {

/// The field's Dzongkha label in Dzongkha (when it has one), else its description.
std::string Label(const FieldSpec& field, bool dz);
/// A stored value as a person reads it.
std::string Text(const nlohmann::json& value);
/// A positive whole number, or nothing.
std::optional<std::int64_t> ParseId(const std::string& text);
/// A form field that is not one of the registry's: its label and limits.
struct FormField {
  std::string name;
  std::string label;
  std::size_t min = 0;
  std::size_t max = 0;
};

/// The service's field errors as sentences in the page's language, naming
/// each field by its label: the registry's fields by theirs, the others as
/// `others` says.
std::vector<FieldError> Localise(const web::Web& web, const http::Request& r, const Registry* registry,
                                 const std::vector<FieldError>& errors, const std::vector<FormField>& others);
/// `text` percent-encoded as one segment of a path.
std::string PathSegment(const std::string& text);

/// The person's correction requests and the stewards' list of them.
Status AddCorrectionPages(http::Router& router, RegistryService& registries, CorrectionService& corrections,
                          web::Web& web);

}  // namespace dzong::registries::pages
