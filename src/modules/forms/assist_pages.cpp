// The community-centre operator's pages (assisted digital): find a citizen
// by CID, choose a service, record how the citizen gave consent (a signed
// paper form with its scan, a one-time code by SMS, or consent refused),
// then fill the form with the form runner's pages under /assist/drafts, and
// list the applications the operator sent.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/multipart.h"
#include "http/router.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "modules/identity/identity.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong::forms {

Status AddAssistedDraftPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                             registries::RegistryService& registries, organisations::OrganisationService& organisations,
                             web::Web& web);

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::optional<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

/// "+975 17•••456": enough for the operator to check the number with the citizen.
std::string MaskedMobile(const std::string& mobile) {
  if (mobile.size() != 12) return mobile;
  return fmt::format("+975 {}\u2022\u2022\u2022{}", mobile.substr(4, 2), mobile.substr(9));
}

class AssistPages {
 public:
  AssistPages(FormService& forms, services::ServiceCatalogue& catalogue, registries::RegistryService& registries,
              organisations::OrganisationService& organisations, identity::IdentityService& identity, web::Web& web)
      : forms_(forms),
        catalogue_(catalogue),
        registries_(registries),
        organisations_(organisations),
        identity_(identity),
        web_(web) {}

  Response Home(const Request& r) {
    json context = HomeContext(r);
    Response res = web_.Page(r, "assist_home", "assist_title", context);
    res.audit_subjects = Subjects(context["drafts"]);
    return res;
  }

  Response Search(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), 422);
    const auto entered = form->find("cid");
    std::string cid = entered == form->end() ? "" : entered->second;
    std::erase_if(cid, [](char c) { return c == ' '; });
    auto found = forms_.FindCitizen(cid, audit::ActorOf(r), "assist.citizen_search", 303);
    if (!found.ok()) {
      json context = HomeContext(r);
      context["cid"] = cid;
      if (found.error().fields.empty()) return web_.ErrorPage(r, found.error(), 500);
      return web_.ShowProblems(r, "assist_home", "assist_title", context, Localised(r, found.error()));
    }
    return web::Web::Redirect("/assist/citizens/" + cid);
  }

  Response ShowCitizen(const Request& r, const std::string& cid) {
    auto citizen = forms_.FindCitizen(cid, audit::ActorOf(r), "assist.citizen_read", 200);
    if (!citizen.ok()) return NotFound(r, citizen.error());
    auto account = identity_.FindAccount(cid);
    if (!account.ok()) return web_.ErrorPage(r, account.error(), 500);
    auto list = catalogue_.Catalogue(services::CatalogueQuery{});
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    const std::string lang = web_.Language(r);
    json services = json::array();
    for (const auto& s : *list) {
      if (!s.published_version) continue;
      services.push_back({{"title", services::TextIn(s.definition["title"], lang)},
                          {"owner", OrganisationName(r, s.owner)},
                          {"href", fmt::format("/assist/citizens/{}/services/{}", cid, s.code)}});
    }
    json context = CitizenContext(*citizen);
    context["has_account"] = account->has_value() && (*account)->kind == identity::AccountKind::kCitizen;
    context["services"] = services;
    return web_.Page(r, "assist_citizen", "assist_citizen_title", context);
  }

  Response ConsentForm(const Request& r, const std::string& cid, const std::string& code) {
    auto context = ConsentContext(r, cid, code, "assist.citizen_read", 200);
    if (auto* refusal = std::get_if<Response>(&context)) return std::move(*refusal);
    return web_.Page(r, "assist_consent", "assist_consent_title", std::get<json>(context));
  }

  Response RecordConsent(const Request& r, const std::string& cid, const std::string& code) {
    std::vector<http::Part> parts;
    const bool multipart = r.HeaderValue("Content-Type").starts_with("multipart/form-data");
    auto form = multipart ? web_.ReadMultipartForm(r, parts) : web_.ReadForm(r);
    if (!form.ok()) {
      return web_.ErrorPage(r, form.error(),
                            form.error().code == "identity.csrf_failed" || form.error().code == http::kMalformedMultipart
                                ? 422
                                : 415);
    }
    const auto value = [&](const char* name) {
      const auto it = form->find(name);
      return it == form->end() ? std::string() : it->second;
    };
    const std::string method = value("method");
    const audit::Actor actor = audit::ActorOf(r);
    // Each path reads the person again only to show the page once more.
    const auto problem = [&](const Error& e) -> Response {
      auto context = ConsentContext(r, cid, code, "assist.citizen_read", 422);
      if (auto* refusal = std::get_if<Response>(&context)) return std::move(*refusal);
      json& c = std::get<json>(context);
      c["method_" + method] = true;
      c["mobile"] = value("mobile");
      if (e.fields.empty()) return web_.ErrorPage(r, e, e.code == services::errc::kNotFound ? 404 : 500);
      return web_.ShowProblems(r, "assist_consent", "assist_consent_title", c, Localised(r, e));
    };
    if (ValidateCid("cid", cid).size() > 0) return NotFound(r, Error(errc::kCitizenNotFound, "no such person"));
    if (method == "paper") {
      std::string filename;
      std::string bytes;
      for (http::Part& part : parts) {
        if (part.name == "scan") {
          filename = part.filename.value_or("");
          bytes = std::move(part.body);
        }
      }
      auto draft = forms_.StartWithScan(cid, code, filename, std::move(bytes), actor);
      if (!draft.ok()) return problem(draft.error());
      return DraftStarted(*draft);
    }
    if (method == "sms") {
      auto sent = forms_.SendConsentCode(cid, code, value("mobile"), actor);
      if (!sent.ok()) return problem(sent.error());
      return web::Web::Redirect(fmt::format("/assist/codes/{}", *sent));
    }
    if (method == "refused") {
      Assistance a{actor.id, actor.organisation.value_or(""), "refused", ""};
      auto draft = forms_.Start(code, cid, false, actor, a);
      if (!draft.ok()) return problem(draft.error());
      return DraftStarted(*draft);
    }
    return problem(Invalid({{"method", "method", "Choose how the citizen gave their consent"}}));
  }

  Response CodeForm(const Request& r, const std::string& id_text) {
    auto context = CodeContext(r, id_text);
    if (auto* refusal = std::get_if<Response>(&context)) return std::move(*refusal);
    Response res = web_.Page(r, "assist_code", "assist_code_title", std::get<json>(context));
    res.audit_subjects = {std::get<json>(context).value("cid", "")};
    return res;
  }

  Response CheckCode(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), 422);
    const auto id = ParseId(id_text);
    if (!id) return NotFound(r, Error(errc::kCodeNotFound, "no such code"));
    const auto entered = form->find("code");
    std::string code = entered == form->end() ? "" : entered->second;
    std::erase_if(code, [](char c) { return c == ' '; });
    auto draft = forms_.CheckConsentCode(*id, code, audit::ActorOf(r));
    if (draft.ok()) return DraftStarted(*draft);
    auto context = CodeContext(r, id_text);
    if (auto* refusal = std::get_if<Response>(&context)) return std::move(*refusal);
    if (draft.error().fields.empty()) {
      if (draft.error().code == errc::kCodeExpired || draft.error().code == errc::kCodeUsed) {
        json& c = std::get<json>(context);
        c["closed"] = true;
        c["closed_text"] = web_.Text(r, draft.error().code == errc::kCodeExpired ? "assist_code_expired" : "assist_code_used");
        return web_.Page(r, "assist_code", "assist_code_title", c, 410);
      }
      return NotFound(r, draft.error());
    }
    Response res = web_.ShowProblems(r, "assist_code", "assist_code_title", std::get<json>(context),
                                     Localised(r, draft.error()));
    return res;
  }

  Response Applications(const Request& r) {
    auto list = forms_.SubmittedByOperator(r.principal.id);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    const std::string lang = web_.Language(r);
    json rows = json::array();
    std::vector<std::string> people;
    for (const Application& a : *list) {
      auto version = catalogue_.GetVersion(a.service, a.version);
      json row = {{"reference", a.reference},
                  {"cid", a.applicant},
                  {"service", version.ok() ? services::TextIn(version->definition["title"], lang) : a.service},
                  {"state", version.ok() ? StateTitle(version->definition, a.state, lang) : a.state},
                  {"submitted", web::BhutanTime(a.submitted_at)},
                  {"href", fmt::format("/assist/drafts/{}/submitted", a.draft_id)}};
      rows.push_back(std::move(row));
      if (std::find(people.begin(), people.end(), a.applicant) == people.end()) people.push_back(a.applicant);
    }
    Response res = web_.Page(r, "assist_applications", "assist_applications_title",
                             {{"applications", rows}, {"none", rows.empty()}});
    res.audit_subjects = std::move(people);
    return res;
  }

 private:
  json HomeContext(const Request& r) {
    json drafts = json::array();
    auto list = forms_.AssistedDrafts(r.principal.id);
    if (list.ok()) {
      const std::string lang = web_.Language(r);
      for (const Draft& d : *list) {
        auto version = forms_.VersionOf(d);
        if (!version.ok()) continue;
        const auto to_do = forms_.PagesToDo(d, version->definition);
        const std::string base = fmt::format("/assist/drafts/{}", d.id);
        drafts.push_back({{"cid", d.applicant},
                          {"service", services::TextIn(version->definition["title"], lang)},
                          {"started", web::BhutanTime(d.created_at)},
                          {"href", to_do.empty() ? base + "/check" : base + "/pages/" + to_do.front()}});
      }
    }
    return json{{"drafts", drafts}, {"has_drafts", !drafts.empty()}, {"cid", ""}};
  }

  static std::vector<std::string> Subjects(const json& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows) {
      const std::string cid = row.value("cid", "");
      if (std::find(out.begin(), out.end(), cid) == out.end()) out.push_back(cid);
    }
    return out;
  }

  static std::vector<FieldError> ValidateCid(const std::string& field, const std::string& cid) {
    return identity::ValidateCid(field, cid);
  }

  json CitizenContext(const forms::Citizen& c) {
    return json{{"cid", c.cid},
                {"name", c.surname.empty() ? c.given_name : c.given_name + " " + c.surname},
                {"dzongkhag", c.dzongkhag},
                {"gewog", c.gewog}};
  }

  /// The consent page for a citizen and a service, reading the citizen
  /// (recorded as `action`, answered with `status`).
  std::variant<json, Response> ConsentContext(const Request& r, const std::string& cid, const std::string& code,
                                              const std::string& action, int status) {
    auto service = catalogue_.GetPublished(code);
    if (!service.ok() || !service->published_version) {
      return NotFound(r, service.ok() ? Error(services::errc::kNotFound, "not published") : service.error());
    }
    auto version = catalogue_.GetVersion(code, *service->published_version);
    if (!version.ok()) return web_.ErrorPage(r, version.error(), 500);
    auto citizen = forms_.FindCitizen(cid, audit::ActorOf(r), action, status);
    if (!citizen.ok()) return NotFound(r, citizen.error());
    const json& d = version->definition;
    const std::string lang = web_.Language(r);
    auto sources = forms_.PrefillSources(d);
    if (!sources.ok()) return web_.ErrorPage(r, sources.error(), 500);
    json registers = json::array();
    for (const auto& s : *sources) {
      if (!s.allowed) continue;
      const std::string label = FieldLabel(d, s.field, lang);
      bool found = false;
      for (auto& reg : registers) {
        if (reg["code"] == s.registry) {
          reg["fields"] = reg["fields"].get<std::string>() + ", " + label;
          found = true;
        }
      }
      if (!found) {
        registers.push_back({{"code", s.registry},
                             {"title", RegistryTitle(r, s.registry)},
                             {"custodian", OrganisationName(r, s.custodian)},
                             {"fields", label}});
      }
    }
    json context = CitizenContext(*citizen);
    context["service_title"] = services::TextIn(d["title"], lang);
    context["owner"] = OrganisationName(r, d.value("owner", ""));
    context["registers"] = registers;
    context["has_prefill"] = !registers.empty();
    context["action"] = fmt::format("/assist/citizens/{}/services/{}", cid, code);
    context["back"] = fmt::format("/assist/citizens/{}", cid);
    context["mobile"] = "";
    return context;
  }

  std::variant<json, Response> CodeContext(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return NotFound(r, Error(errc::kCodeNotFound, "no such code"));
    auto code = forms_.GetConsentCode(*id, r.principal.id);
    if (!code.ok()) return NotFound(r, code.error());
    auto service = catalogue_.GetPublished(code->service);
    std::string title = code->service;
    if (service.ok() && service->published_version) {
      auto version = catalogue_.GetVersion(code->service, *service->published_version);
      if (version.ok()) title = services::TextIn(version->definition["title"], web_.Language(r));
    }
    return json{{"cid", code->citizen},
                {"service_title", title},
                {"mobile", MaskedMobile(code->mobile)},
                {"expires", web::BhutanTime(code->expires_at)},
                {"action", fmt::format("/assist/codes/{}", code->id)},
                {"again", fmt::format("/assist/citizens/{}/services/{}", code->citizen, code->service)},
                {"closed", code->used}};
  }

  Response DraftStarted(const Draft& d) {
    auto version = forms_.VersionOf(d);
    const std::string base = fmt::format("/assist/drafts/{}", d.id);
    if (!version.ok()) return web::Web::Redirect(base + "/check");
    const auto to_do = forms_.PagesToDo(d, version->definition);
    return web::Web::Redirect(to_do.empty() ? base + "/check" : base + "/pages/" + to_do.front());
  }

  Response NotFound(const Request& r, const Error& e) {
    if (!e.fields.empty() || e.code == errc::kCitizenNotFound) {
      return web_.ErrorPage(r, Error(errc::kCitizenNotFound, "There is no such person in the population register"), 404);
    }
    if (e.code == services::errc::kNotFound || e.code == errc::kCodeNotFound) return web_.ErrorPage(r, e, 404);
    return web_.ErrorPage(r, e, 500);
  }

  /// The service's field errors as sentences in the page's language.
  std::vector<FieldError> Localised(const Request& r, const Error& e) {
    std::vector<FieldError> out;
    for (const FieldError& f : e.fields) {
      std::string text = web_.Text(r, "assist_problem_" + f.rule);
      if (text.empty() || text == "assist_problem_" + f.rule) text = f.message;
      if (f.rule == "code_wrong") {
        const auto digits = f.message.find_first_of("0123456789");
        const std::string left = digits == std::string::npos ? "" : f.message.substr(digits, 1);
        if (const auto at = text.find("{left}"); at != std::string::npos) text.replace(at, 6, left);
      }
      out.push_back({f.field, f.rule, text});
    }
    return out;
  }

  static std::string StateTitle(const json& definition, const std::string& state, const std::string& lang) {
    for (const auto& s : definition["workflow"].value("states", json::array())) {
      if (s.value("id", "") == state && s.contains("title")) return services::TextIn(s["title"], lang);
    }
    return state;
  }

  static std::string FieldLabel(const json& definition, const std::string& id, const std::string& lang) {
    for (const auto& page : definition["form"]["pages"]) {
      for (const auto& field : page["fields"]) {
        if (field.value("id", "") == id) return services::TextIn(field["label"], lang);
      }
    }
    return id;
  }

  std::string OrganisationName(const Request& r, const std::string& code) {
    auto o = organisations_.Get(code);
    if (!o.ok()) return code;
    return web_.Language(r) == "dz" && o->name_dz ? *o->name_dz : o->name_en;
  }

  std::string RegistryTitle(const Request& r, const std::string& code) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return code;
    return web_.Language(r) == "dz" && !registry->title_dz.empty() ? registry->title_dz : registry->title_en;
  }

  FormService& forms_;
  services::ServiceCatalogue& catalogue_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  identity::IdentityService& identity_;
  web::Web& web_;
};

}  // namespace

Status AddAssistPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                      registries::RegistryService& registries, organisations::OrganisationService& organisations,
                      identity::IdentityService& identity, web::Web& web) {
  auto pages = std::make_shared<AssistPages>(forms, catalogue, registries, organisations, identity, web);
  DZONG_TRY(router.Add({"GET", "/assist", "applications.assist", "assist.drafts_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Home(r); },
                        "the operator's start: find a citizen by CID, and the drafts in progress for citizens"}));
  DZONG_TRY(router.Add({"POST", "/assist", "applications.assist", "assist.citizen_search",
                        [pages](const Request& r, const http::PathParams&) { return pages->Search(r); },
                        "find a citizen in the population register by CID, to apply on their behalf"}));
  DZONG_TRY(router.Add({"GET", "/assist/citizens/{cid}", "applications.assist", "assist.citizen_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->ShowCitizen(r, p.at("cid")); },
                        "a citizen's name, whether they have an account, and the services to apply for"}));
  DZONG_TRY(router.Add({"GET", "/assist/citizens/{cid}/services/{code}", "applications.assist", "assist.citizen_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->ConsentForm(r, p.at("cid"), p.at("code"));
                        },
                        "record how the citizen gave consent to pre-fill a service's form"}));
  DZONG_TRY(router.Add({"POST", "/assist/citizens/{cid}/services/{code}", "applications.assist", "assist.consent_record",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->RecordConsent(r, p.at("cid"), p.at("code"));
                        },
                        "record the citizen's consent (scan of a signed form, SMS code, or refused) and start a draft"}));
  DZONG_TRY(router.Add({"GET", "/assist/codes/{id}", "applications.assist", "assist.consent_code_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->CodeForm(r, p.at("id")); },
                        "enter the one-time code the citizen received by SMS"}));
  DZONG_TRY(router.Add({"POST", "/assist/codes/{id}", "applications.assist", "assist.consent_code_check",
                        [pages](const Request& r, const http::PathParams& p) { return pages->CheckCode(r, p.at("id")); },
                        "check the citizen's one-time code and start the draft with their consent"}));
  DZONG_TRY(router.Add({"GET", "/assist/applications", "applications.assist", "assist.applications_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Applications(r); },
                        "the applications this operator sent on citizens' behalf"}));
  return AddAssistedDraftPages(router, forms, catalogue, registries, organisations, web);
}

}  // namespace dzong::forms
