// The service designer's own services: the list, a new service (a draft
// with a one-page form and a submitted → approved / rejected workflow to
// start from), the overview of the latest version with its lint, the
// service's details, publication, retirement, and the definition as JSON
// out and in. The routes of every designer page are added here.
#include <algorithm>

#include <fmt/format.h>

#include "http/router.h"
#include "modules/audit/audit.h"
#include "modules/organisations/organisations.h"
#include "modules/services/designer.h"

namespace dzong::services {
namespace design {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr const char* kCategories[] = {"civil-registration", "identity-and-travel", "police-and-justice",
                                       "business-and-trade", "land-and-housing",    "transport",
                                       "health",             "education",           "tax",
                                       "utilities",          "other"};
constexpr const char* kLifeEvents[] = {"birth",      "death",     "marriage",   "moving-home",
                                       "starting-a-business", "land-and-property", "travel", "employment",
                                       "education",  "health",    "retirement"};

std::string Key(std::string prefix, std::string value) {
  std::replace(value.begin(), value.end(), '-', '_');
  return prefix + value;
}

bool IsCode(const std::string& code) {
  if (code.size() < 3 || code.size() > 64 || code[0] < 'a' || code[0] > 'z') return false;
  return std::all_of(code.begin(), code.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string V(const json& values, const std::string& name) { return values.value(name, ""); }

}  // namespace

std::optional<std::int64_t> ParseMoney(const std::string& text) {
  const std::size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  const std::string cents = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 9 || cents.size() > 2 || (dot != std::string::npos && cents.empty())) {
    return std::nullopt;
  }
  const auto digits = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || !digits(cents)) return std::nullopt;
  std::int64_t chhertum = std::stoll(whole) * 100;
  if (!cents.empty()) chhertum += std::stoll(cents) * (cents.size() == 1 ? 10 : 1);
  return chhertum;
}

std::string Money(std::int64_t chhertum) {
  if (chhertum % 100 == 0) return std::to_string(chhertum / 100);
  return fmt::format("{}.{:02}", chhertum / 100, chhertum % 100);
}

/// The details of a service as the details form shows them.
json DetailsValues(const json& d) {
  json values = json::object();
  for (const char* part : {"title", "summary", "description", "eligibility", "how_to_apply"}) {
    const json text = d.contains(part) ? d.at(part) : json::object();
    values[std::string(part) + "_en"] = In(text, "en");
    values[std::string(part) + "_dz"] = In(text, "dz");
  }
  values["code"] = d.value("code", "");
  values["category"] = d.value("category", "");
  if (d.contains("life_events")) {
    for (const json& e : d.at("life_events")) values["life_events." + e.get<std::string>()] = "1";
  }
  if (d.contains("fee")) values["fee"] = Money(d.at("fee").value("amount_chhertum", std::int64_t{0}));
  if (d.contains("sla_working_days")) values["sla"] = std::to_string(d.at("sla_working_days").get<std::int64_t>());
  return values;
}

EditPage DesignerPages::DetailsPage(const Request& r, const json& values, const std::string& code) {
  EditPage page;
  const bool is_new = code.empty();
  page.heading = T(r, is_new ? "design_new" : "design_details");
  page.caption = is_new ? "" : code;
  page.action = is_new ? "/design/new" : fmt::format("/design/{}/details", code);
  page.back = is_new ? "/design" : OverviewPath(code);
  page.submit = T(r, is_new ? "design_create" : "design_save");
  if (is_new) {
    page.controls.push_back(
        Text("code", T(r, "design_code"), V(values, "code"), T(r, "design_code_hint"), "govuk-input--width-20"));
  }
  for (const char* part : {"title", "summary"}) {
    const std::string p(part);
    page.controls.push_back(Text(p + "_en", T(r, "design_" + p + "_en"), V(values, p + "_en")));
    page.controls.push_back(DzText(p + "_dz", T(r, "design_" + p + "_dz"), V(values, p + "_dz")));
  }
  for (const char* part : {"description", "eligibility", "how_to_apply"}) {
    const std::string p(part);
    page.controls.push_back(Area(p + "_en", T(r, "design_" + p + "_en"), V(values, p + "_en")));
    page.controls.push_back(Area(p + "_dz", T(r, "design_" + p + "_dz"), V(values, p + "_dz"), true));
  }
  std::vector<Control::Option> categories = {{"", T(r, "design_choose"), V(values, "category").empty(), ""}};
  for (const char* c : kCategories) {
    categories.push_back({c, T(r, Key("category_", c)), V(values, "category") == c, ""});
  }
  page.controls.push_back(Select("category", T(r, "design_category"), categories));
  std::vector<Control::Option> events;
  for (const char* e : kLifeEvents) {
    events.push_back({e, T(r, Key("life_event_", e)), values.contains("life_events." + std::string(e)), ""});
  }
  page.controls.push_back(Checks("life_events", T(r, "design_life_events"), events, T(r, "design_life_events_hint")));
  page.controls.push_back(
      Text("fee", T(r, "design_fee"), V(values, "fee"), T(r, "design_fee_hint"), "govuk-input--width-10"));
  page.controls.push_back(
      Text("sla", T(r, "design_sla"), V(values, "sla"), T(r, "design_sla_hint"), "govuk-input--width-4"));
  return page;
}

/// Puts the details form's values into `d`; returns the problems, in the
/// order of the form.
std::vector<FieldError> DesignerPages::ApplyDetails(const Request& r, const json& values, const EditPage& page,
                                                    json& d) {
  std::vector<FieldError> problems;
  const auto required = [&](const std::string& name) {
    if (V(values, name).empty()) problems.push_back(Problem(r, name, "required", LabelOf(page, name)));
  };
  for (const char* part : {"title", "summary", "description", "eligibility", "how_to_apply"}) {
    const std::string p(part);
    const std::string en = V(values, p + "_en");
    const std::string dz = V(values, p + "_dz");
    if (p == "title" || p == "summary" || p == "eligibility") required(p + "_en");
    if (en.empty() && dz.empty()) {
      d.erase(p);
    } else if (en.empty()) {
      required(p + "_en");
    } else {
      d[p] = Bilingual(en, dz);
    }
  }
  const std::string category = V(values, "category");
  if (std::find_if(std::begin(kCategories), std::end(kCategories), [&](const char* c) { return category == c; }) ==
      std::end(kCategories)) {
    problems.push_back(Problem(r, "category", "choose", LabelOf(page, "category")));
  } else {
    d["category"] = category;
  }
  // The events kept stay in their order; the ones chosen now follow.
  json events = json::array();
  for (const json& e : d.value("life_events", json::array())) {
    if (e.is_string() && values.contains("life_events." + e.get<std::string>())) events.push_back(e);
  }
  for (const char* e : kLifeEvents) {
    if (values.contains("life_events." + std::string(e)) && std::find(events.begin(), events.end(), e) == events.end()) {
      events.push_back(e);
    }
  }
  if (events.empty()) problems.push_back(Problem(r, "life_events", "choose", LabelOf(page, "life_events")));
  d["life_events"] = events;
  const auto fee = ParseMoney(V(values, "fee"));
  if (!fee || *fee > 100000000) {
    problems.push_back(Problem(r, "fee", "money", LabelOf(page, "fee")));
  } else {
    if (!d.contains("fee") || !d.at("fee").is_object()) d["fee"] = json::object();
    d["fee"]["amount_chhertum"] = *fee;
  }
  const auto sla = WholeNumber(V(values, "sla"));
  if (!sla || *sla < 1 || *sla > 365) {
    problems.push_back(Problem(r, "sla", "range", LabelOf(page, "sla"), 1, 365));
  } else {
    d["sla_working_days"] = *sla;
  }
  return problems;
}

Response DesignerPages::List(const Request& r) {
  const std::string own = r.principal.organisation.value_or("");
  auto owned = catalogue_.OwnedBy(own);
  if (!owned.ok()) return Failure(r, owned.error());
  json services = json::array();
  for (const Service& s : *owned) {
    const json& d = s.definition;
    services.push_back({{"code", s.code},
                        {"href", OverviewPath(s.code)},
                        {"title", In(d.contains("title") ? d.at("title") : json(), Dz(r) ? "dz" : "en")},
                        {"status", T(r, "design_status_" + s.status)},
                        {"published", s.published_version ? std::to_string(*s.published_version) : "–"},
                        {"latest", std::to_string(s.latest_version)}});
  }
  std::string organisation = own;
  if (auto o = organisations_.Get(own); o.ok()) organisation = Dz(r) && o->name_dz ? *o->name_dz : o->name_en;
  return web_.Page(r, "design_list", "design_services",
                   {{"services", services}, {"none", services.empty()}, {"organisation", organisation}});
}

Response DesignerPages::NewForm(const Request& r) {
  return ShowEdit(r, DetailsPage(r, json{{"sla", "7"}, {"fee", "0"}}, ""));
}

json DesignerPages::StartingDefinition(const std::string& code, const std::string& owner) const {
  const auto both = [this](const std::string& key) {
    return json{{"en", TextIn(key, "en")}, {"dz", TextIn(key, "dz")}};
  };
  const auto state = [&](const char* id, bool final, const char* outcome) {
    json s = {{"id", id}, {"title", both(std::string("design_start_state_") + id)}};
    if (final) {
      s["final"] = true;
      s["outcome"] = outcome;
      s["on_enter"] = json::array({{{"do", "notify"}, {"to", "applicant"}}});
    }
    return s;
  };
  const auto transition = [&](const char* id, const char* to, bool comment) {
    json t = {{"id", id},
              {"from", "submitted"},
              {"to", to},
              {"label", both(std::string("design_start_transition_") + id)},
              {"by", {{"role", "officer"}}}};
    if (comment) t["comment_required"] = true;
    return t;
  };
  return {{"code", code},
          {"owner", owner},
          {"form",
           {{"pages", json::array({{{"id", "application"},
                                    {"title", both("design_start_page")},
                                    {"fields", json::array({{{"id", "purpose"},
                                                             {"type", "text"},
                                                             {"label", both("design_start_field")},
                                                             {"required", true},
                                                             {"max_length", 500}}})}}})}}},
          {"workflow",
           {{"initial", "submitted"},
            {"states", json::array({state("submitted", false, ""), state("approved", true, "approved"),
                                    state("rejected", true, "rejected")})},
            {"transitions",
             json::array({transition("approve", "approved", false), transition("reject", "rejected", true)})}}}};
}

Response DesignerPages::Create(const Request& r) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  const json values = FormValues(*form);
  EditPage page = DetailsPage(r, values, "");
  const std::string code = V(values, "code");
  const std::string owner = r.principal.organisation.value_or("");
  std::vector<FieldError> problems;
  if (!IsCode(code)) {
    problems.push_back(Problem(r, "code", "code", LabelOf(page, "code")));
  } else if (catalogue_.Get(code).ok()) {
    problems.push_back(Problem(r, "code", "code_taken", LabelOf(page, "code")));
  }
  json d = StartingDefinition(code, owner);
  for (FieldError& p : ApplyDetails(r, values, page, d)) problems.push_back(std::move(p));
  if (!problems.empty()) return ShowEdit(r, std::move(page), problems);
  return SaveAndGo(r, d, OverviewPath(code), std::move(page), "");
}

Response DesignerPages::DetailsForm(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  return ShowEdit(r, DetailsPage(r, DetailsValues(latest->definition), code));
}

Response DesignerPages::SaveDetails(const Request& r, const std::string& code) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  const json values = FormValues(*form);
  EditPage page = DetailsPage(r, values, code);
  json d = latest->definition;
  auto problems = ApplyDetails(r, values, page, d);
  if (!problems.empty()) return ShowEdit(r, std::move(page), problems);
  return SaveAndGo(r, d, OverviewPath(code), std::move(page), "");
}

Response DesignerPages::RetireForm(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  return web_.Page(r, "design_retire", "design_retire",
                   {{"code", code},
                    {"service_title", In(latest->definition.value("title", json::object()), Dz(r) ? "dz" : "en")},
                    {"back", OverviewPath(code)},
                    {"action", fmt::format("/design/{}/retire", code)}});
}

Response DesignerPages::Retire(const Request& r, const std::string& code) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  auto retired = catalogue_.Retire(code, audit::ActorOf(r));
  if (!retired.ok()) return Failure(r, retired.error());
  return web::Web::Redirect(OverviewPath(code));
}

Response DesignerPages::Export(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  Response out;
  out.content_type = "application/json";
  out.body = latest->definition.dump(2) + "\n";
  out.SetHeader("Content-Disposition",
                fmt::format("attachment; filename=\"{}-version-{}.json\"", code, latest->version));
  out.SetHeader("Cache-Control", "no-store");
  return out;
}

Response DesignerPages::Publish(const Request& r, const std::string& code) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  std::vector<FieldError> problems;
  if (latest->status != "draft") {
    problems.push_back({"publish", "not_draft", T(r, "design_nothing_to_publish")});
  } else {
    auto published = catalogue_.Publish(code, latest->version, audit::ActorOf(r));
    if (published.ok()) return web::Web::Redirect(OverviewPath(code) + "?published=" + std::to_string(published->version));
    const Error& e = published.error();
    if (e.code != errc::kLintBlocked && e.code != dzong::errc::kValidation && e.code != errc::kNotDraft) {
      return Failure(r, e);
    }
    for (const FieldError& f : e.fields) {
      problems.push_back({"lint", f.rule, fmt::format("{}: {} ({} {})", f.field, f.message, T(r, "design_rule"), f.rule)});
    }
    if (problems.empty()) problems.push_back({"publish", e.code, e.message});
  }
  auto context = OverviewContext(r, *latest, "");
  return web_.ShowProblems(r, "design_service", T(r, "design_overview"), context, problems);
}

Response DesignerPages::Import(const Request& r, const std::string& code) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  const std::string text = FormText(*form, "definition");
  const json d = json::parse(text, nullptr, false);
  std::vector<FieldError> problems;
  const auto add = [&](const std::string& path, const std::string& rule, const std::string& message) {
    problems.push_back({"definition", rule, fmt::format("{} – {} {}: {}", path.empty() ? "/" : path,
                                                        T(r, "design_rule"), rule, message)});
  };
  if (text.empty()) {
    problems.push_back(Problem(r, "definition", "required", T(r, "design_import_label")));
  } else if (!d.is_object()) {
    problems.push_back(Problem(r, "definition", "json", T(r, "design_import_label")));
  } else if (d.value("code", "") != code) {
    problems.push_back(Problem(r, "definition", "same_code", T(r, "design_import_label")));
  } else {
    for (const FieldError& e : catalogue_.Validate(d)) add(e.field, e.rule, e.message);
    if (problems.empty()) {
      auto saved = catalogue_.SaveDraft(d, audit::ActorOf(r));
      if (saved.ok()) return web::Web::Redirect(OverviewPath(code));
      if (saved.error().code != dzong::errc::kValidation && saved.error().code != errc::kNotOwner &&
          saved.error().code != errc::kRetired) {
        return Failure(r, saved.error());
      }
      for (const FieldError& e : saved.error().fields) add(e.field, e.rule, e.message);
      if (problems.empty()) add("owner", saved.error().code, saved.error().message);
    }
  }
  auto context = OverviewContext(r, *latest, text);
  return web_.ShowProblems(r, "design_service", T(r, "design_overview"), context, problems);
}

}  // namespace design

Status AddDesignerPages(http::Router& router, ServiceCatalogue& catalogue, registries::RegistryService& registries,
                        organisations::OrganisationService& organisations, web::Web& web) {
  using http::PathParams;
  using http::Request;
  auto pages = std::make_shared<design::DesignerPages>(catalogue, registries, organisations, web);
  const auto add = [&](const char* method, std::string pattern, const char* event, const char* summary,
                       http::Handler handler) {
    const bool review = pattern.rfind("/review/", 0) == 0;
    return router.Add({method, std::move(pattern), review ? "services.review" : "services.design", event,
                       std::move(handler), summary});
  };
  const char* kNone = http::kNoAuditEvent;
  DZONG_TRY(add("GET", "/design", kNone, "the services the designer's organisation owns",
                [pages](const Request& r, const PathParams&) { return pages->List(r); }));
  DZONG_TRY(add("GET", "/design/new", kNone, "the form that creates a service",
                [pages](const Request& r, const PathParams&) { return pages->NewForm(r); }));
  DZONG_TRY(add("POST", "/design/new", "services.draft_save", "create a service as a draft",
                [pages](const Request& r, const PathParams&) { return pages->Create(r); }));
  DZONG_TRY(add("GET", "/design/{code}", kNone, "a service's latest version, its lint and its versions",
                [pages](const Request& r, const PathParams& p) { return pages->Overview(r, p.at("code")); }));
  DZONG_TRY(add("POST", "/design/{code}/publish", "services.publish", "publish the draft",
                [pages](const Request& r, const PathParams& p) { return pages->Publish(r, p.at("code")); }));
  // A page shown after a refused publication or import has the address the
  // form posted to; reading it again (a change of language) goes to the overview.
  for (const char* action : {"publish", "import"}) {
    DZONG_TRY(add("GET", fmt::format("/design/{{code}}/{}", action), kNone, "back to the service's overview",
                  [](const Request&, const PathParams& p) {
                    return web::Web::Redirect("/design/" + http::PercentEncode(p.at("code")));
                  }));
  }
  DZONG_TRY(add("GET", "/design/{code}/retire", kNone, "confirm taking a service out of the catalogue",
                [pages](const Request& r, const PathParams& p) { return pages->RetireForm(r, p.at("code")); }));
  DZONG_TRY(add("POST", "/design/{code}/retire", "services.retire", "take a service out of the catalogue",
                [pages](const Request& r, const PathParams& p) { return pages->Retire(r, p.at("code")); }));
  DZONG_TRY(add("GET", "/design/{code}/definition.json", kNone, "the latest definition as a JSON file",
                [pages](const Request& r, const PathParams& p) { return pages->Export(r, p.at("code")); }));
  DZONG_TRY(add("POST", "/design/{code}/import", "services.draft_save", "replace the draft by a pasted definition",
                [pages](const Request& r, const PathParams& p) { return pages->Import(r, p.at("code")); }));
  DZONG_TRY(add("GET", "/design/{code}/preview", kNone, "the draft's form as the applicant will read it",
                [pages](const Request& r, const PathParams& p) { return pages->Preview(r, p.at("code")); }));
  DZONG_TRY(add("GET", "/design/{code}/details", kNone, "the service's details",
                [pages](const Request& r, const PathParams& p) { return pages->DetailsForm(r, p.at("code")); }));
  DZONG_TRY(add("POST", "/design/{code}/details", "services.draft_save", "change the service's details",
                [pages](const Request& r, const PathParams& p) { return pages->SaveDetails(r, p.at("code")); }));
  DZONG_TRY(add("GET", "/design/{code}/pages/{page}", kNone, "a page of the form and its fields",
                [pages](const Request& r, const PathParams& p) {
                  return pages->PageForm(r, p.at("code"), p.at("page"));
                }));
  DZONG_TRY(add("POST", "/design/{code}/pages/{page}", "services.draft_save", "add or change a page of the form",
                [pages](const Request& r, const PathParams& p) {
                  return pages->SavePage(r, p.at("code"), p.at("page"));
                }));
  DZONG_TRY(add("POST", "/design/{code}/pages/{page}/arrange", "services.draft_save",
                "move a page of the form up or down, or remove it", [pages](const Request& r, const PathParams& p) {
                  return pages->ArrangePage(r, p.at("code"), p.at("page"));
                }));
  DZONG_TRY(add("GET", "/design/{code}/pages/{page}/fields/{field}", kNone, "a field of the form",
                [pages](const Request& r, const PathParams& p) {
                  return pages->FieldForm(r, p.at("code"), p.at("page"), p.at("field"));
                }));
  DZONG_TRY(add("POST", "/design/{code}/pages/{page}/fields/{field}", "services.draft_save",
                "add or change a field of the form", [pages](const Request& r, const PathParams& p) {
                  return pages->SaveField(r, p.at("code"), p.at("page"), p.at("field"));
                }));
  DZONG_TRY(add("POST", "/design/{code}/pages/{page}/fields/{field}/arrange", "services.draft_save",
                "move a field up or down, or remove it", [pages](const Request& r, const PathParams& p) {
                  return pages->ArrangeField(r, p.at("code"), p.at("page"), p.at("field"));
                }));
  for (const char* part : {"documents", "fee-rules", "states", "transitions", "justifications"}) {
    const std::string base = fmt::format("/design/{{code}}/{}/{{index}}", part);
    const std::string name(part);
    DZONG_TRY(add("GET", base, kNone, "an item of the definition's list",
                  [pages, name](const Request& r, const PathParams& p) {
                    return pages->ItemForm(r, p.at("code"), name, p.at("index"));
                  }));
    DZONG_TRY(add("POST", base, "services.draft_save", "add or change an item of the definition's list",
                  [pages, name](const Request& r, const PathParams& p) {
                    return pages->SaveItem(r, p.at("code"), name, p.at("index"));
                  }));
    DZONG_TRY(add("POST", base + "/arrange", "services.draft_save", "move an item up or down, or remove it",
                  [pages, name](const Request& r, const PathParams& p) {
                    return pages->ArrangeItem(r, p.at("code"), name, p.at("index"));
                  }));
  }
  DZONG_TRY(add("GET", "/design/{code}/certificate", kNone, "the certificate the service issues",
                [pages](const Request& r, const PathParams& p) { return pages->CertificateForm(r, p.at("code")); }));
  DZONG_TRY(add("POST", "/design/{code}/certificate", "services.draft_save", "change the certificate",
                [pages](const Request& r, const PathParams& p) { return pages->SaveCertificate(r, p.at("code")); }));
  DZONG_TRY(add("GET", "/review/justifications", kNone, "the justifications recorded at publication",
                [pages](const Request& r, const PathParams&) { return pages->Justifications(r); }));
  DZONG_TRY(add("GET", "/review/justifications/{id}", kNone, "back to the justifications",
                [](const Request&, const PathParams&) { return web::Web::Redirect("/review/justifications"); }));
  DZONG_TRY(add("POST", "/review/justifications/{id}", "services.justification_review",
                "accept or question a justification", [pages](const Request& r, const PathParams& p) {
                  return pages->ReviewJustification(r, p.at("id"));
                }));
  return {};
}

}  // namespace dzong::services
