#pragma once
// The web shell: the layout every page lives in, its two languages, forms
// with CSRF protection, and the hashed static assets.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {
class Router;
struct Part;
}

namespace dzong::web {

inline constexpr char kSessionCookie[] = "dzong_session";
inline constexpr char kCsrfCookie[] = "dzong_csrf";
inline constexpr char kLanguageCookie[] = "dzong_lang";

/// The fields of a submitted form, percent-decoded.
using Form = std::map<std::string, std::string, std::less<>>;

/// A stored UTC time ("2026-11-29T15:58:30.123456Z") as people in Bhutan
/// read it: "29-11-2026 21:58" in Bhutan Time (UTC+6, no daylight saving).
std::string BhutanTime(const std::string& utc);

class Web {
 public:
  /// `assets_dir` holds the files scripts/build-assets made, with manifest.json.
  /// `secure_cookies` when served behind TLS.
  static Result<std::unique_ptr<Web>> Create(const std::string& assets_dir, bool secure_cookies);
  ~Web();

  /// "en" or "dz": the person's choice (cookie, then account), else Accept-Language.
  std::string Language(const http::Request& request) const;
  /// A catalogue string in the request's language.
  std::string Text(const http::Request& request, const std::string& key) const;

  /// Renders `page` (a template name) inside the layout. `context` is a JSON
  /// object; the layout adds the catalogue as `t`, the language, the sign-in
  /// state and the CSRF token.
  http::Response Page(const http::Request& request, const std::string& page, const std::string& title_key,
                      nlohmann::json context, int status = 200) const;
  /// A page that shows field errors: status 422, an error summary at the top.
  http::Response Invalid(const http::Request& request, const std::string& page, const std::string& title_key,
                         nlohmann::json context, const Error& error) const;
  /// A field's problem as a sentence in the request's language: the
  /// catalogue's "problem.<rule>", with {field} replaced by `label` and
  /// {min} and {max} by the limits; "problem.invalid" for a rule it lacks.
  std::string Problem(const http::Request& request, const std::string& rule, const std::string& label,
                      std::size_t min = 0, std::size_t max = 0) const;
  /// A form page with an error summary whose messages the page has already
  /// put in the request's language (with the field's own label), each
  /// linked to its field. `status`: 422 for invalid input, 409 when someone
  /// else changed what the form edits.
  http::Response ShowProblems(const http::Request& request, const std::string& page, const std::string& title_key,
                              nlohmann::json context, const std::vector<FieldError>& problems, int status = 422) const;
  /// An error page (404, 403, 500 …) in the layout.
  http::Response ErrorPage(const http::Request& request, const Error& error, int status) const;
  static http::Response Redirect(const std::string& location);

  /// Reads an application/x-www-form-urlencoded body and checks its
  /// csrf_token against the session's (or, before sign-in, the CSRF cookie).
  /// Errors: identity.csrf_failed, request.unsupported_media_type.
  Result<Form> ReadForm(const http::Request& request) const;
  /// The same for a multipart/form-data body (a form with files): its
  /// fields, CSRF-checked, and its file parts (those with a filename) in
  /// `files`. Errors: identity.csrf_failed, request.unsupported_media_type,
  /// request.malformed_multipart.
  Result<Form> ReadMultipartForm(const http::Request& request, std::vector<http::Part>& files) const;

  /// Set-Cookie value for the session cookie (empty value clears it).
  std::string SessionCookie(const std::string& raw_id) const;

  /// Adds the routes of the shell itself: assets, home, language switch,
  /// accessibility statement.
  Status AddRoutes(http::Router& router);

  /// Every catalogue key missing from one of the languages (for tests).
  std::vector<std::string> MissingTranslations() const;

 private:
  struct Impl;
  explicit Web(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dzong::web
