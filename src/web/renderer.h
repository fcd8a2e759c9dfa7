#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace dzong::web {

/// Renders a Mustache template; `{{x}}` is HTML-escaped, `{{{x}}}` is not.
std::string Render(const std::string& source, const nlohmann::json& context,
                   const std::map<std::string, std::string>& partials);

}  // namespace dzong::web
