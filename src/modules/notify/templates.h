#pragma once
// The notices' texts (internal to the module): bilingual templates kept as
// data in templates/*.json and compiled into the binary. Each has a subject,
// a body (email and the inbox) and a short SMS text in English and Dzongkha,
// with {{placeholders}} filled from the notice's params.
//
// Placeholders are plain text substitution, never HTML-escaped: mail and SMS
// are text, and the inbox page escapes what it shows. {{x}} takes x_<lang>,
// else x, else x_en; {{#x}}…{{/x}} shows its text only when x has a value,
// {{^x}}…{{/x}} only when it has none. A param named path or <name>_path is
// also offered as url or <name>_url: the site's address followed by it.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace dzong::notify {

struct Text {
  std::string subject;
  std::string body;
  std::string sms;
  std::string inbox;  ///< the body as the inbox shows it, when it must differ (no reset link)
};

struct Template {
  std::string id;
  std::string to;                      ///< who receives it, for the documentation
  std::vector<std::string> params;     ///< placeholders a notice must give
  std::vector<std::string> optional;   ///< placeholders it may give
  bool inbox = true;                   ///< shown in the person's inbox
  std::map<std::string, Text> text;    ///< by language: en, dz
};

/// Every template, read once from the embedded files. Errors: notify.bad_template
/// (a file that does not read; a test keeps them readable).
Result<const std::vector<Template>*> AllTemplates();
/// The template with this id, or nullptr.
const Template* FindTemplate(std::string_view id);

/// The rendered subject, body (with the mail footer when `footer`), SMS
/// text and inbox text (the body when the template has none) in `language`.
Text Render(const Template& t, const std::string& language, const nlohmann::json& params, const std::string& site_url,
            bool footer = true);

/// The placeholders a template text names ({{x}}, {{#x}}, {{^x}}), for tests.
std::vector<std::string> Placeholders(std::string_view text);

/// The value of a placeholder for `language`, as text; empty when the params lack it.
std::string ParamText(const nlohmann::json& params, const std::string& name, const std::string& language);

}  // namespace dzong::notify
