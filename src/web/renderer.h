#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace dzong::web {

/// Renders a Mustache template; `{{x}}` is HTML-escaped, `{{{x}}}` is not.
/// mstch parses `source` and every template of `partials` on each call, so
/// pass only the partials `source` includes (TemplateTags says which).
std::string Render(const std::string& source, const nlohmann::json& context,
                   const std::map<std::string, std::string>& partials);

/// What a template's tags name, in the default delimiters: the partials it
/// includes (`{{> name}}`) and every variable and section name
/// (`{{a.b}}`, `{{{a}}}`, `{{#a}}` …), comments left out.
struct TemplateTags {
  std::set<std::string, std::less<>> partials;
  std::set<std::string, std::less<>> names;
  /// A tag that sets other delimiters (`{{=<% %>=}}`): what follows it
  /// was not read, so the sets above may lack names.
  bool changes_delimiters = false;
};
TemplateTags ScanTemplate(std::string_view source);

}  // namespace dzong::web
