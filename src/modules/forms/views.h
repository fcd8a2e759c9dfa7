#pragma once
// What the form runner's templates are given (internal to the module): one
// view per field, by its type, with its value, hint, error and, for a
// pre-filled answer, where it came from; the check-answers summary; and
// problems as sentences in the page's language.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/message.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "web/web.h"

namespace dzong::forms::views {

/// Registry titles by code, and organisation names by "org:<code>", in the page's language.
using Names = std::map<std::string, std::string>;

/// A problem as a sentence naming the field by its label.
std::string ProblemText(const web::Web& web, const http::Request& r, const Problem& problem);
/// "PDF, JPEG or PNG" for a document's formats.
std::string Formats(const nlohmann::json& document);
/// "5 MB", "300 KB".
std::string Size(std::int64_t bytes);

/// The fields of a page for form_page.mustache.
nlohmann::json PageContext(const web::Web& web, const http::Request& r, const Draft& draft,
                           const nlohmann::json& definition, const nlohmann::json& page,
                           const std::map<std::string, std::string, std::less<>>& inputs,
                           const std::vector<Problem>& problems, const Names& names);

/// The answers of the pages that show, for form_check.mustache.
nlohmann::json CheckContext(const web::Web& web, const http::Request& r, const Draft& draft,
                            const nlohmann::json& definition, const std::string& draft_path, const Names& names);

}  // namespace dzong::forms::views
