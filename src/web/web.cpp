#include "web/web.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/embedded.h"
#include "http/multipart.h"
#include "http/router.h"
#include "web/renderer.h"

namespace dzong {
std::span<const EmbeddedFile> WebTemplateFiles();
std::span<const EmbeddedFile> WebCatalogueFiles();
}  // namespace dzong

namespace dzong::web {
namespace {

using nlohmann::json;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ContentType(const std::string& name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".ttf")) return "font/ttf";
  if (name.ends_with(".woff2")) return "font/woff2";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

/// Percent-encodes a value for a query string (RFC 3986 unreserved and '/' kept).
std::string EncodeQueryValue(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string BhutanTime(const std::string& utc) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  if (std::sscanf(utc.c_str(), "%4d-%2d-%2dT%2d:%2d", &y, &mo, &d, &h, &mi) != 5) return utc;
  using namespace std::chrono;
  const sys_days day{year{y} / month{static_cast<unsigned>(mo)} / static_cast<unsigned>(d)};
  const auto local = day + hours{h + 6} + minutes{mi};
  const auto local_day = floor<days>(local);
  const year_month_day ymd{local_day};
  const hh_mm_ss time{local - local_day};
  return fmt::format("{:02d}-{:02d}-{} {:02d}:{:02d}", static_cast<unsigned>(ymd.day()),
                     static_cast<unsigned>(ymd.month()), static_cast<int>(ymd.year()), time.hours().count(),
                     time.minutes().count());
}

/// A page's template made ready, at start-up, to render in the layout in
/// one pass: mstch parses every partial it is given on each render, and
/// the context is converted whole, so each page gets only what it uses.
struct PageTemplate {
  /// The page itself as the layout's `content` partial, and every partial
  /// the layout and the page include, however deep.
  std::map<std::string, std::string> partials;
  /// "en", "dz" → the catalogue strings the layout, the page and its
  /// partials show (`{{t.key}}`); the whole catalogue if one names `t` alone.
  std::map<std::string, json> catalogues;
};

/// The name of the partial the layout includes the page by.
constexpr char kContentPartial[] = "content";

struct Web::Impl {
  std::map<std::string, std::string> templates;  ///< name without .mustache → source
  std::map<std::string, json> catalogues;        ///< "en", "dz" → flat object of strings
  std::map<std::string, std::string> asset_files;  ///< hashed name → bytes
  std::map<std::string, std::string> manifest;     ///< logical name → hashed name
  std::map<std::string, std::string> gzipped;      ///< hashed name → its gzip copy
  std::map<std::string, PageTemplate, std::less<>> pages;  ///< by template name
  PageTemplate no_page;  ///< the layout around nothing, for a name without a template
  std::string css;       ///< the stylesheet's path, with its hashed name
  bool secure_cookies = false;

  /// Fills `pages` and `no_page` from `templates` and `catalogues`.
  Status PrepareTemplates();
};

Status Web::Impl::PrepareTemplates() {
  std::map<std::string, TemplateTags, std::less<>> tags;
  for (const auto& [name, source] : templates) {
    TemplateTags scanned = ScanTemplate(source);
    if (scanned.changes_delimiters) {
      return Error("web.bad_template", fmt::format("{}.mustache sets other delimiters; the pages' templates "
                                                   "keep {{{{ }}}} so that their partials can be found",
                                                   name));
    }
    tags.emplace(name, std::move(scanned));
  }
  if (!templates.contains("layout")) return Error("web.bad_template", "there is no layout.mustache");
  if (templates.contains(kContentPartial)) {
    return Error("web.bad_template", fmt::format("{}.mustache has the name of the layout's page partial",
                                                 kContentPartial));
  }
  const auto prepare = [&](const std::string* page) {
    PageTemplate prepared;
    std::vector<std::string> pending = {"layout"};
    if (page != nullptr) pending.push_back(*page);
    std::set<std::string, std::less<>> seen(pending.begin(), pending.end());
    std::set<std::string, std::less<>> keys;
    bool whole_catalogue = false;
    while (!pending.empty()) {
      const std::string name = std::move(pending.back());
      pending.pop_back();
      const auto found = tags.find(name);
      if (found == tags.end()) continue;  // mstch renders a partial it lacks as nothing
      for (const std::string& used : found->second.names) {
        if (used == "t") whole_catalogue = true;
        if (used.starts_with("t.")) keys.insert(used.substr(2));
      }
      for (const std::string& partial : found->second.partials) {
        if (seen.insert(partial).second) pending.push_back(partial);
      }
    }
    for (const std::string& name : seen) {
      const auto found = templates.find(name);
      if (found != templates.end() && name != "layout" && (page == nullptr || name != *page)) {
        prepared.partials.emplace(name, found->second);
      }
    }
    prepared.partials[kContentPartial] = page == nullptr ? std::string() : templates.at(*page);
    for (const auto& [lang, catalogue] : catalogues) {
      if (whole_catalogue) {
        prepared.catalogues[lang] = catalogue;
        continue;
      }
      json used = json::object();
      for (const std::string& key : keys) {
        const auto it = catalogue.find(key);
        if (it != catalogue.end()) used[key] = *it;
      }
      prepared.catalogues[lang] = std::move(used);
    }
    return prepared;
  };
  for (const auto& [name, source] : templates) {
    if (name != "layout") pages.emplace(name, prepare(&name));
  }
  no_page = prepare(nullptr);
  return {};
}

Web::Web(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Web::~Web() = default;

Result<std::unique_ptr<Web>> Web::Create(const std::string& assets_dir, bool secure_cookies) {
  auto impl = std::make_unique<Impl>();
  impl->secure_cookies = secure_cookies;
  for (const EmbeddedFile& f : WebTemplateFiles()) {
    std::string name(f.name);
    name = name.substr(0, name.find('.'));
    impl->templates.emplace(name, std::string(f.content));
  }
  for (const EmbeddedFile& f : WebCatalogueFiles()) {
    json catalogue = json::parse(f.content, nullptr, false);
    if (!catalogue.is_object()) return Error("web.bad_catalogue", fmt::format("{} is not a JSON object", f.name));
    impl->catalogues.emplace(std::string(f.name.substr(0, f.name.find('.'))), std::move(catalogue));
  }
  const std::filesystem::path dir(assets_dir);
  const json manifest = json::parse(ReadFile(dir / "manifest.json"), nullptr, false);
  if (!manifest.is_object()) {
    return Error("web.no_assets", fmt::format("{}/manifest.json is missing or not JSON; run scripts/build-assets {}",
                                              assets_dir, assets_dir));
  }
  for (const auto& [logical, hashed] : manifest.items()) {
    const std::string name = hashed.get<std::string>();
    impl->manifest[logical] = name;
    impl->asset_files[name] = ReadFile(dir / name);
    // A gzip copy beside a text asset is sent to browsers that accept it.
    if (std::filesystem::exists(dir / (name + ".gz"))) impl->gzipped[name] = ReadFile(dir / (name + ".gz"));
  }
  impl->css = "/assets/" + manifest.value("dzong.css", std::string());
  DZONG_TRY(impl->PrepareTemplates());
  return std::unique_ptr<Web>(new Web(std::move(impl)));
}

std::string Web::Language(const http::Request& request) const {
  const std::string chosen = request.Cookie(kLanguageCookie);
  if (chosen == "en" || chosen == "dz") return chosen;
  if (request.principal.language) return *request.principal.language;
  // Accept-Language: the first of en or dz that appears, by quality order as sent.
  const std::string_view accept = request.HeaderValue("Accept-Language");
  const auto dz = accept.find("dz");
  const auto en = accept.find("en");
  if (dz != std::string_view::npos && (en == std::string_view::npos || dz < en)) return "dz";
  return "en";
}

std::string Web::Text(const http::Request& request, const std::string& key) const {
  const json& catalogue = impl_->catalogues.at(Language(request));
  return catalogue.value(key, key);
}

http::Response Web::Page(const http::Request& request, const std::string& page, const std::string& title_key,
                         json context, int status) const {
  const std::string lang = Language(request);
  const auto found = impl_->pages.find(page);
  const PageTemplate& prepared = found == impl_->pages.end() ? impl_->no_page : found->second;
  const http::Principal& who = request.principal;
  context["t"] = prepared.catalogues.at(lang);
  context["lang"] = lang;
  context["signed_in"] = who.account_id != 0 && !who.mfa_pending;
  context["display_name"] = who.display_name;
  context["is_official"] = who.kind == "official";
  context["may_administer"] = who.May("accounts.read");
  context["may_track"] = who.May("data_access.self");
  context["may_audit"] = who.May("audit.read");
  context["may_steward"] = who.May("registries.steward") && who.organisation.has_value();
  context["may_agree"] = who.May("agreements.manage") && who.organisation.has_value();
  context["may_design"] = who.May("services.design") && who.organisation.has_value();
  context["may_review_services"] = who.May("services.review");
  context["may_work"] = who.May("applications.work") && who.organisation.has_value();
  context["may_revoke"] = who.May("certificates.revoke") && who.organisation.has_value();
  context["may_assist"] = who.May("applications.assist") && who.organisation.has_value();
  std::string csrf = who.csrf_token.empty() ? request.Cookie(kCsrfCookie) : who.csrf_token;
  const bool new_csrf = csrf.empty();
  if (new_csrf) csrf = RandomHex(16);
  context["csrf_token"] = csrf;
  const json& catalogue = impl_->catalogues.at(lang);
  context["title"] = catalogue.value(title_key, title_key);
  context["css"] = impl_->css;
  context["other_lang"] = lang == "en" ? "dz" : "en";
  context["other_lang_label"] = lang == "en" ? "རྫོང་ཁ" : "English";
  context["other_lang_name"] = lang == "en" ? "Dzongkha" : "English";
  // Back to this very page after choosing a language, filters and all.
  context["return_to"] = EncodeQueryValue(request.method == "GET" ? request.target : request.path);
  // The page is the layout's `content` partial: one render, one context.
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = Render(impl_->templates.at("layout"), context, prepared.partials);
  r.SetHeader("Cache-Control", "no-store");
  if (new_csrf) {
    r.SetHeader("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax{}", kCsrfCookie, csrf,
                                          impl_->secure_cookies ? "; Secure" : ""));
  }
  return r;
}

http::Response Web::Invalid(const http::Request& request, const std::string& page, const std::string& title_key,
                            json context, const Error& error) const {
  // Messages come from the catalogue by rule, then by error code; a message
  // only the service wrote (in English) is marked as English.
  const json& t = impl_->catalogues.at(Language(request));
  const std::string lang = Language(request);
  const auto translate = [&](const std::string& rule, const std::string& fallback) {
    json item = json::object();
    const auto lookup = [&](const std::string& key) -> std::string {
      const auto it = t.find(key);
      return it != t.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string();
    };
    const std::string by_rule = lookup("err." + rule);
    const std::string by_code = lookup("err." + error.code);
    if (!by_rule.empty() || !by_code.empty()) {
      item.emplace("message", by_rule.empty() ? by_code : by_rule);
      item.emplace("lang", false);
    } else {
      item.emplace("message", fallback);
      item.emplace("lang", lang == "en" ? json(false) : json("en"));
    }
    return item;
  };
  json errors = json::array();
  json by_field = json::object();
  for (const FieldError& f : error.fields) {
    json item = translate(f.rule, f.message);
    item.emplace("field", f.field);
    by_field.emplace(f.field, item.at("message"));
    errors.push_back(std::move(item));
  }
  if (errors.empty()) {
    json item = translate("", error.message);
    item.emplace("field", "");
    errors.push_back(std::move(item));
  }
  context["errors"] = errors;
  context["has_errors"] = true;
  context["error"] = by_field;
  return Page(request, page, title_key, std::move(context), 422);
}

std::string Web::Problem(const http::Request& request, const std::string& rule, const std::string& label,
                         std::size_t min, std::size_t max) const {
  const json& t = impl_->catalogues.at(Language(request));
  const auto found = t.find("problem." + rule);
  std::string text = found != t.end() && found->is_string() ? found->get<std::string>()
                                                            : t.value("problem.invalid", "{field}");
  const auto put = [&text](std::string_view name, const std::string& value) {
    for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size())) {
      text.replace(at, name.size(), value);
    }
  };
  put("{field}", label);
  put("{min}", std::to_string(min));
  put("{max}", std::to_string(max));
  return text;
}

http::Response Web::ShowProblems(const http::Request& request, const std::string& page, const std::string& title_key,
                                 json context, const std::vector<FieldError>& problems, int status) const {
  json errors = json::array();
  json by_field = json::object();
  for (const FieldError& f : problems) {
    errors.push_back({{"field", f.field}, {"message", f.message}, {"lang", false}});
    if (!by_field.contains(f.field)) by_field[f.field] = f.message;
  }
  context["errors"] = std::move(errors);
  context["has_errors"] = true;
  context["error"] = std::move(by_field);
  return Page(request, page, title_key, std::move(context), status);
}

http::Response Web::ErrorPage(const http::Request& request, const Error& error, int status) const {
  const std::string key = status == 404 ? "error_not_found" : status == 403 || status == 401 ? "error_forbidden"
                                                                                              : "error_server";
  json context = {{"status", status}, {"request_id", request.request_id}, {"message_key", key}};
  context["is_" + std::to_string(status)] = true;
  (void)error;
  return Page(request, "error", key + "_title", std::move(context), status);
}

http::Response Web::Redirect(const std::string& location) {
  http::Response r;
  r.status = 303;
  r.content_type.clear();
  r.SetHeader("Location", location);
  return r;
}

Result<Form> Web::ReadForm(const http::Request& request) const {
  const std::string_view type = request.HeaderValue("Content-Type");
  if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded") {
    return Error(errc::kUnsupportedMediaType, "Send the form as application/x-www-form-urlencoded");
  }
  Form form;
  std::string_view rest = request.body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    auto key = http::PercentDecode(pair.substr(0, eq), true);
    auto value = http::PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (key && value) form[*key] = *value;
  }
  const std::string expected =
      request.principal.csrf_token.empty() ? request.Cookie(kCsrfCookie) : request.principal.csrf_token;
  const auto sent = form.find("csrf_token");
  if (expected.empty() || sent == form.end() || !ConstantTimeEquals(sent->second, expected)) {
    return Error("identity.csrf_failed", "This form has expired or did not come from this site. Go back, reload "
                                         "the page and try again.");
  }
  return form;
}

Result<Form> Web::ReadMultipartForm(const http::Request& request, std::vector<http::Part>& files) const {
  DZONG_ASSIGN_OR_RETURN(std::vector<http::Part> parts,
                         http::ParseMultipart(request.HeaderValue("Content-Type"), request.body));
  Form form;
  for (http::Part& part : parts) {
    if (part.filename) {
      files.push_back(std::move(part));
    } else {
      form[part.name] = std::move(part.body);
    }
  }
  const std::string expected =
      request.principal.csrf_token.empty() ? request.Cookie(kCsrfCookie) : request.principal.csrf_token;
  const auto sent = form.find("csrf_token");
  if (expected.empty() || sent == form.end() || !ConstantTimeEquals(sent->second, expected)) {
    return Error("identity.csrf_failed", "This form has expired or did not come from this site. Go back, reload "
                                         "the page and try again.");
  }
  return form;
}

std::string Web::SessionCookie(const std::string& raw_id) const {
  if (raw_id.empty()) {
    return fmt::format("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", kSessionCookie,
                       impl_->secure_cookies ? "; Secure" : "");
  }
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Lax{}", kSessionCookie, raw_id,
                     impl_->secure_cookies ? "; Secure" : "");
}

std::vector<std::string> Web::MissingTranslations() const {
  std::vector<std::string> missing;
  const json& en = impl_->catalogues.at("en");
  const json& dz = impl_->catalogues.at("dz");
  for (const auto& [key, value] : en.items()) {
    if (!dz.contains(key) || dz[key].get<std::string>().empty()) missing.push_back("dz:" + key);
  }
  for (const auto& [key, value] : dz.items()) {
    if (!en.contains(key) || en[key].get<std::string>().empty()) missing.push_back("en:" + key);
  }
  return missing;
}

Status Web::AddRoutes(http::Router& router) {
  Impl* impl = impl_.get();
  DZONG_TRY(router.Add({"GET", "/assets/{name}", http::kPublic, http::kNoAuditEvent,
                        [impl](const http::Request& r, const http::PathParams& p) {
                          const auto found = impl->asset_files.find(p.at("name"));
                          if (found == impl->asset_files.end()) {
                            http::Response missing;
                            missing.status = 404;
                            missing.content_type = "text/plain; charset=utf-8";
                            missing.body = "no such asset";
                            return missing;
                          }
                          http::Response asset;
                          asset.content_type = ContentType(found->first);
                          const auto gz = impl->gzipped.find(found->first);
                          if (gz != impl->gzipped.end() &&
                              r.HeaderValue("Accept-Encoding").find("gzip") != std::string_view::npos) {
                            asset.body = gz->second;
                            asset.SetHeader("Content-Encoding", "gzip");
                          } else {
                            asset.body = found->second;
                          }
                          asset.SetHeader("Vary", "Accept-Encoding");
                          // Names carry a hash of their content: a new build is a new name.
                          asset.SetHeader("Cache-Control", "public, max-age=31536000, immutable");
                          return asset;
                        },
                        "static assets with hashed names"}));
  DZONG_TRY(router.Add({"GET", "/", http::kPublic, http::kNoAuditEvent,
                        [this](const http::Request& r, const http::PathParams&) {
                          return Page(r, "home", "home_title", json::object());
                        },
                        "home page"}));
  DZONG_TRY(router.Add({"GET", "/accessibility", http::kPublic, http::kNoAuditEvent,
                        [this](const http::Request& r, const http::PathParams&) {
                          return Page(r, "accessibility", "accessibility_title", json::object());
                        },
                        "accessibility statement"}));
  DZONG_TRY(router.Add({"GET", "/language", http::kPublic, http::kNoAuditEvent,
                        [this](const http::Request& r, const http::PathParams&) {
                          const std::string lang = r.QueryParam("lang").value_or("en") == "dz" ? "dz" : "en";
                          std::string back = r.QueryParam("return").value_or("/");
                          // Only paths on this site: never an open redirect.
                          if (back.empty() || back[0] != '/' || back.starts_with("//") || back.starts_with("/\\")) {
                            back = "/";
                          }
                          http::Response res = Redirect(back);
                          res.SetHeader("Set-Cookie",
                                        fmt::format("{}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
                                                    kLanguageCookie, lang, impl_->secure_cookies ? "; Secure" : ""));
                          return res;
                        },
                        "choose the language of the pages"}));
  return {};
}

}  // namespace dzong::web
