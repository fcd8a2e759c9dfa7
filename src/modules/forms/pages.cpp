// The form runner's pages: the start page with the consent question, one
// page of the form at a time, check answers, the confirmation, the list of
// drafts, and the files a citizen uploaded.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/multipart.h"
#include "http/router.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "modules/forms/views.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong::forms {
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

class Pages {
 public:
  /// `assisting`: the pages a community-centre operator fills a citizen's
  /// draft with, under /assist/drafts; else the citizen's own, under /my/drafts.
  Pages(FormService& forms, services::ServiceCatalogue& catalogue, registries::RegistryService& registries,
        organisations::OrganisationService& organisations, web::Web& web, bool assisting)
      : forms_(forms),
        catalogue_(catalogue),
        registries_(registries),
        organisations_(organisations),
        web_(web),
        assisting_(assisting) {}

  Response StartForm(const Request& r, const std::string& code) {
    auto context = StartContext(r, code);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    return web_.Page(r, "form_start", context->value("service_title", ""), *context);
  }

  Response Start(const Request& r, const std::string& code) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto context = StartContext(r, code);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    const auto consent = form->find("consent");
    const std::string answer = consent == form->end() ? "" : consent->second;
    if (context->value("has_prefill", false) && answer != "yes" && answer != "no") {
      return web_.ShowProblems(r, "form_start", context->value("service_title", ""), *context,
                               {{"consent", "required", web_.Text(r, "form_problem_consent")}});
    }
    auto draft = forms_.Start(code, r.principal.id, answer == "yes", audit::ActorOf(r));
    if (!draft.ok()) return web_.ErrorPage(r, draft.error(), draft.error().code == services::errc::kNotFound ? 404 : 500);
    auto version = forms_.VersionOf(*draft);
    if (!version.ok()) return web_.ErrorPage(r, version.error(), 500);
    return web::Web::Redirect(Next(*draft, version->definition));
  }

  Response ShowPage(const Request& r, const std::string& id_text, const std::string& page_id) {
    auto loaded = Load(r, id_text);
    if (auto* refusal = std::get_if<Response>(&loaded)) return std::move(*refusal);
    auto& [draft, version] = std::get<Loaded>(loaded);
    const json* page = FindPage(version.definition, page_id);
    if (!page || !Visible(draft, version.definition, page_id)) {
      return web_.ErrorPage(r, Error(errc::kPageNotFound, "no such page"), 404);
    }
    const Inputs inputs = InputsFrom(*page, draft.answers);
    Response res = web_.Page(r, "form_page", PageTitle(r, *page), PageContext(r, draft, version, *page, inputs, {}));
    // An operator sees a citizen's answers: the call names them.
    if (assisting_) res.audit_subjects = {draft.applicant};
    return res;
  }

  Response SavePage(const Request& r, const std::string& id_text, const std::string& page_id) {
    std::vector<http::Part> parts;
    const bool multipart = r.HeaderValue("Content-Type").starts_with("multipart/form-data");
    auto form = multipart ? web_.ReadMultipartForm(r, parts) : web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto loaded = Load(r, id_text);
    if (auto* refusal = std::get_if<Response>(&loaded)) return std::move(*refusal);
    auto& [draft, version] = std::get<Loaded>(loaded);
    const json& definition = version.definition;
    const json* page = FindPage(definition, page_id);
    if (!page || !Visible(draft, definition, page_id)) {
      return web_.ErrorPage(r, Error(errc::kPageNotFound, "no such page"), 404);
    }
    Inputs inputs(form->begin(), form->end());
    // "Add another" and "Remove" change the page, not the draft.
    const std::string action = inputs.contains("action") ? inputs.at("action") : "continue";
    if (action.starts_with("add:") || action.starts_with("remove:")) {
      Regroup(*page, action, inputs);
      return web_.Page(r, "form_page", PageTitle(r, *page), PageContext(r, draft, version, *page, inputs, {}));
    }
    std::map<std::string, FileInput> files;
    for (http::Part& part : parts) files[part.name] = FileInput{part.filename.value_or(""), std::move(part.body)};
    json others = draft.answers;
    for (const auto& [id, source] : draft.prefilled.items()) others[id] = source.at("value");
    PageInput read = ReadPage(definition, *page, others, draft.prefilled, inputs, files, BhutanToday(std::chrono::system_clock::now()));
    if (!read.problems.empty()) {
      std::vector<FieldError> shown;
      for (const Problem& p : read.problems) shown.push_back({p.id, p.rule, views::ProblemText(web_, r, p)});
      return web_.ShowProblems(r, "form_page", PageTitle(r, *page),
                               PageContext(r, draft, version, *page, inputs, read.problems), shown);
    }
    std::vector<StoredFile> stored;
    std::vector<std::string> bodies;
    for (AcceptedFile& f : read.files) {
      stored.push_back({f.sha256, static_cast<std::int64_t>(f.body.size()), f.media_type, f.filename, r.principal.id, ""});
      bodies.push_back(std::move(f.body));
    }
    auto saved = forms_.SavePage(draft.id, HolderOf(r), page_id, read.answers, stored, bodies, audit::ActorOf(r));
    if (!saved.ok()) return DraftError(r, saved.error());
    return web::Web::Redirect(Next(*saved, definition));
  }

  Response Check(const Request& r, const std::string& id_text) {
    auto loaded = Load(r, id_text);
    if (auto* refusal = std::get_if<Response>(&loaded)) return std::move(*refusal);
    auto& [draft, version] = std::get<Loaded>(loaded);
    const auto to_do = forms_.PagesToDo(draft, version.definition);
    if (!to_do.empty()) return web::Web::Redirect(fmt::format("{}/pages/{}", DraftPath(draft.id), to_do.front()));
    json context = views::CheckContext(web_, r, draft, version.definition, DraftPath(draft.id), SourceNames(r, draft));
    context["service_title"] = services::TextIn(version.definition["title"], web_.Language(r));
    context["action"] = DraftPath(draft.id) + "/submit";
    Response res = web_.Page(r, "form_check", "form_check_title", context);
    if (assisting_) res.audit_subjects = {draft.applicant};
    return res;
  }

  Response Submit(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    const auto id = ParseId(id_text);
    if (!id) return web_.ErrorPage(r, Error(errc::kDraftNotFound, "no such draft"), 404);
    auto made = forms_.Submit(*id, HolderOf(r), audit::ActorOf(r));
    if (!made.ok()) {
      if (made.error().code == errc::kIncomplete) return web::Web::Redirect(DraftPath(*id) + "/check");
      return DraftError(r, made.error());
    }
    return web::Web::Redirect(DraftPath(*id) + "/submitted");
  }

  Response Submitted(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return web_.ErrorPage(r, Error(errc::kDraftNotFound, "no such draft"), 404);
    auto made = forms_.SubmittedFrom(*id, HolderOf(r));
    if (!made.ok()) return web_.ErrorPage(r, made.error(), 404);
    auto version = catalogue_.GetVersion(made->service, made->version);
    if (!version.ok()) return web_.ErrorPage(r, version.error(), 500);
    const std::string lang = web_.Language(r);
    Response page = web_.Page(r, "form_sent", "form_sent_title",
                              {{"reference", made->reference},
                               {"service_title", services::TextIn(version->definition["title"], lang)},
                               {"owner", OrganisationName(r, made->owner)},
                               {"submitted", web::BhutanTime(made->submitted_at)},
                               {"assisting", assisting_},
                               {"drafts_href", DraftsHref()}});
    if (assisting_) page.audit_subjects = {made->applicant};
    return page;
  }

  Response Drafts(const Request& r) {
    auto list = forms_.Drafts(r.principal.id);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json rows = json::array();
    for (const Draft& d : *list) {
      auto version = forms_.VersionOf(d);
      if (!version.ok()) continue;
      rows.push_back({{"title", services::TextIn(version->definition["title"], web_.Language(r))},
                      {"started", web::BhutanTime(d.created_at)},
                      {"expires", web::BhutanTime(d.expires_at)},
                      {"href", Next(d, version->definition)}});
    }
    return web_.Page(r, "my_drafts", "my_drafts", {{"drafts", rows}, {"none", rows.empty()}});
  }

  Response File(const Request& r, const std::string& id_text, const std::string& sha256) {
    const auto id = ParseId(id_text);
    if (!id) return web_.ErrorPage(r, Error(errc::kDraftNotFound, "no such draft"), 404);
    // The draft, or the application made from it, must be the person's own
    // (for an operator: one they work on or sent).
    auto draft = forms_.Get(*id, HolderOf(r));
    if (!draft.ok() && !forms_.SubmittedFrom(*id, HolderOf(r)).ok()) {
      return DraftError(r, draft.error());
    }
    auto file = forms_.ReadFile(sha256, r.principal.id);
    if (!file.ok()) return web_.ErrorPage(r, file.error(), 404);
    return forms::FileDownload(file->first, std::move(file->second));
  }

 private:
  using Inputs = std::map<std::string, std::string, std::less<>>;
  struct Loaded {
    Draft draft;
    services::Version version;
  };

  /// Who works on the drafts these pages show.
  Holder HolderOf(const Request& r) const {
    return assisting_ ? Holder::Operator(r.principal.id) : Holder(r.principal.id);
  }

  std::string DraftPath(std::int64_t id) const {
    return fmt::format("{}/{}", assisting_ ? "/assist/drafts" : "/my/drafts", id);
  }

  std::string DraftsHref() const { return assisting_ ? "/assist" : "/my/drafts"; }

  /// The person's draft and its version, or the page that says why not.
  std::variant<Loaded, Response> Load(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return web_.ErrorPage(r, Error(errc::kDraftNotFound, "no such draft"), 404);
    auto draft = forms_.Get(*id, HolderOf(r));
    if (!draft.ok()) return DraftError(r, draft.error());
    auto version = forms_.VersionOf(*draft);
    if (!version.ok()) return web_.ErrorPage(r, version.error(), 500);
    return Loaded{std::move(draft).value(), std::move(version).value()};
  }

  Response DraftError(const Request& r, const Error& e) {
    if (e.code == errc::kDraftExpired) {
      return web_.Page(r, "form_expired", "form_expired_title", {{"drafts_href", DraftsHref()}}, 410);
    }
    if (e.code == errc::kDraftNotFound || e.code == errc::kPageNotFound || e.code == errc::kFileNotFound) {
      return web_.ErrorPage(r, e, 404);
    }
    return web_.ErrorPage(r, e, 500);
  }

  Response FormError(const Request& r, const Error& e) {
    return web_.ErrorPage(r, e, e.code == "identity.csrf_failed" || e.code == http::kMalformedMultipart ? 422 : 415);
  }

  bool Visible(const Draft& d, const json& definition, const std::string& page_id) {
    json all = d.answers;
    for (const auto& [id, source] : d.prefilled.items()) all[id] = source.at("value");
    for (const json* p : VisiblePages(definition, all)) {
      if (p->value("id", "") == page_id) return true;
    }
    return false;
  }

  std::string Next(const Draft& d, const json& definition) {
    const auto to_do = forms_.PagesToDo(d, definition);
    if (to_do.empty()) return DraftPath(d.id) + "/check";
    return fmt::format("{}/pages/{}", DraftPath(d.id), to_do.front());
  }

  std::string PageTitle(const Request& r, const json& page) {
    return services::TextIn(page["title"], web_.Language(r));
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

  /// Registry titles and custodian names for the pre-filled answers.
  views::Names SourceNames(const Request& r, const Draft& d) {
    views::Names names;
    for (const auto& [id, source] : d.prefilled.items()) {
      const std::string registry = source.value("registry", "");
      const std::string custodian = source.value("custodian", "");
      if (!names.contains(registry)) names[registry] = RegistryTitle(r, registry);
      if (!names.contains("org:" + custodian)) names["org:" + custodian] = OrganisationName(r, custodian);
    }
    return names;
  }

  Result<json> StartContext(const Request& r, const std::string& code) {
    DZONG_ASSIGN_OR_RETURN(services::Service service, catalogue_.GetPublished(code));
    if (!service.published_version) return Error(services::errc::kNotFound, "not published");
    DZONG_ASSIGN_OR_RETURN(services::Version version, catalogue_.GetVersion(code, *service.published_version));
    const json& d = version.definition;
    const std::string lang = web_.Language(r);
    json documents = json::array();
    for (const auto& doc : d.value("documents", json::array())) {
      documents.push_back({{"title", services::TextIn(doc["title"], lang)},
                           {"formats", views::Formats(doc)},
                           {"limit", views::Size(doc.value("max_bytes", std::int64_t{0}))}});
    }
    DZONG_ASSIGN_OR_RETURN(std::vector<PrefillSource> sources, forms_.PrefillSources(d));
    // One line per register: its title, its custodian and the fields read.
    json registers = json::array();
    std::vector<std::string> custodians;
    for (const auto& s : sources) {
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
      const std::string name = OrganisationName(r, s.custodian);
      if (std::find(custodians.begin(), custodians.end(), name) == custodians.end()) custodians.push_back(name);
    }
    std::string from;
    for (std::size_t i = 0; i < custodians.size(); ++i) {
      from += (i == 0 ? "" : i + 1 == custodians.size() ? web_.Text(r, "form_and") : ", ") + custodians[i];
    }
    std::string legend = web_.Text(r, "form_consent_legend");
    if (const auto at = legend.find("{custodian}"); at != std::string::npos) legend.replace(at, 11, from);
    const std::int64_t fee = d["fee"].value("amount_chhertum", std::int64_t{0});
    return json{{"code", code},
                {"service_title", services::TextIn(d["title"], lang)},
                {"summary", services::TextIn(d["summary"], lang)},
                {"eligibility", services::TextIn(d["eligibility"], lang)},
                {"owner", OrganisationName(r, d.value("owner", ""))},
                {"documents", documents},
                {"has_documents", !documents.empty()},
                {"fee", fee > 0 ? fmt::format("Nu. {}.{:02}", fee / 100, fee % 100) : web_.Text(r, "form_no_fee")},
                {"sla", d.value("sla_working_days", 0)},
                {"has_prefill", !registers.empty()},
                {"registers", registers},
                {"consent_legend", legend},
                {"action", fmt::format("/services/{}/apply", code)}};
  }

  static std::string FieldLabel(const json& definition, const std::string& id, const std::string& lang) {
    for (const auto& page : definition["form"]["pages"]) {
      for (const auto& field : page["fields"]) {
        if (field.value("id", "") == id) return services::TextIn(field["label"], lang);
      }
    }
    return id;
  }

  json PageContext(const Request& r, const Draft& d, const services::Version& version, const json& page,
                   const Inputs& inputs, const std::vector<Problem>& problems) {
    const std::string lang = web_.Language(r);
    json context = views::PageContext(web_, r, d, version.definition, page, inputs, problems, SourceNames(r, d));
    context["service_title"] = services::TextIn(version.definition["title"], lang);
    context["page_title"] = services::TextIn(page["title"], lang);
    context["lead"] = page.contains("lead") ? services::TextIn(page["lead"], lang) : "";
    context["action"] = fmt::format("{}/pages/{}", DraftPath(d.id), page.value("id", ""));
    // Back: the page before this one that shows, else the start page.
    std::string back = d.assisted ? fmt::format("/assist/citizens/{}/services/{}", d.applicant, d.service)
                                  : fmt::format("/services/{}/apply", d.service);
    json all = d.answers;
    for (const auto& [id, source] : d.prefilled.items()) all[id] = source.at("value");
    for (const json* p : VisiblePages(version.definition, all)) {
      if (p->value("id", "") == page.value("id", "")) break;
      back = fmt::format("{}/pages/{}", DraftPath(d.id), p->value("id", ""));
    }
    context["back"] = back;
    return context;
  }

  /// Adds an empty item to a group, or removes one, in the posted inputs.
  static void Regroup(const json& page, const std::string& action, Inputs& inputs) {
    const bool add = action.starts_with("add:");
    std::string rest = action.substr(add ? 4 : 7);
    std::string group = rest.substr(0, rest.find(':'));
    for (const auto& field : page["fields"]) {
      if (field.value("id", "") != group || field.value("type", "") != "group") continue;
      const int count = GroupItems(field, inputs, json::object());
      if (add) {
        inputs[group + "-count"] = std::to_string(std::min(count + 1, field.value("max_items", 50)));
        return;
      }
      const auto colon = rest.find(':');
      int removed = -1;
      if (colon != std::string::npos) {
        const std::string index = rest.substr(colon + 1);
        std::from_chars(index.data(), index.data() + index.size(), removed);
      }
      if (removed < 0 || removed >= count) return;
      // Each later item moves up one place.
      for (int i = removed; i + 1 < count; ++i) {
        for (const auto& sub : field["fields"]) {
          for (const std::string suffix : {"", "-day", "-month", "-year"}) {
            const std::string from = fmt::format("{}-{}-{}{}", group, i + 1, sub.value("id", ""), suffix);
            const std::string to = fmt::format("{}-{}-{}{}", group, i, sub.value("id", ""), suffix);
            if (inputs.contains(from)) {
              inputs[to] = inputs[from];
            } else {
              inputs.erase(to);
            }
          }
        }
      }
      inputs[group + "-count"] = std::to_string(std::max(count - 1, 1));
      return;
    }
  }

  FormService& forms_;
  services::ServiceCatalogue& catalogue_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
  bool assisting_;
};

}  // namespace

Status AddAssistedDraftPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                             registries::RegistryService& registries, organisations::OrganisationService& organisations,
                             web::Web& web) {
  auto pages = std::make_shared<Pages>(forms, catalogue, registries, organisations, web, /*assisting=*/true);
  DZONG_TRY(router.Add({"GET", "/assist/drafts/{id}/pages/{page}", "applications.assist", "forms.draft_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->ShowPage(r, p.at("id"), p.at("page"));
                        },
                        "one page of a draft an operator fills in for a citizen"}));
  DZONG_TRY(router.Add({"POST", "/assist/drafts/{id}/pages/{page}", "applications.assist", "forms.draft_save",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->SavePage(r, p.at("id"), p.at("page"));
                        },
                        "answer one page of a citizen's draft (with its files), as their operator"}));
  DZONG_TRY(router.Add({"GET", "/assist/drafts/{id}/check", "applications.assist", "forms.draft_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Check(r, p.at("id")); },
                        "check the answers of a citizen's draft before sending it"}));
  DZONG_TRY(router.Add({"POST", "/assist/drafts/{id}/submit", "applications.assist", "forms.application_submit",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Submit(r, p.at("id")); },
                        "send a citizen's draft as an application, channel community centre"}));
  DZONG_TRY(router.Add({"GET", "/assist/drafts/{id}/submitted", "applications.assist", "forms.application_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Submitted(r, p.at("id")); },
                        "the confirmation of an application sent for a citizen, with its reference"}));
  DZONG_TRY(router.Add({"GET", "/assist/drafts/{id}/files/{sha256}", "applications.assist", "forms.file_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->File(r, p.at("id"), p.at("sha256"));
                        },
                        "a file the operator uploaded for a citizen's draft, as an attachment"}));
  return {};
}

Status AddPages(http::Router& router, FormService& forms, services::ServiceCatalogue& catalogue,
                registries::RegistryService& registries, organisations::OrganisationService& organisations,
                web::Web& web) {
  auto pages = std::make_shared<Pages>(forms, catalogue, registries, organisations, web, /*assisting=*/false);
  DZONG_TRY(router.Add({"GET", "/services/{code}/apply", "consent.self", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams& p) { return pages->StartForm(r, p.at("code")); },
                        "the start page of an application, with the consent question for pre-filling"}));
  DZONG_TRY(router.Add({"POST", "/services/{code}/apply", "consent.self", "forms.draft_start",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Start(r, p.at("code")); },
                        "start a draft application on the service's published version"}));
  DZONG_TRY(router.Add({"GET", "/my/drafts", "consent.self", "forms.drafts_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Drafts(r); },
                        "my draft applications, to resume"}));
  DZONG_TRY(router.Add({"GET", "/my/drafts/{id}/pages/{page}", "consent.self", "forms.draft_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->ShowPage(r, p.at("id"), p.at("page"));
                        },
                        "one page of a draft application"}));
  DZONG_TRY(router.Add({"POST", "/my/drafts/{id}/pages/{page}", "consent.self", "forms.draft_save",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->SavePage(r, p.at("id"), p.at("page"));
                        },
                        "answer one page of a draft application (with its files)"}));
  DZONG_TRY(router.Add({"GET", "/my/drafts/{id}/check", "consent.self", "forms.draft_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Check(r, p.at("id")); },
                        "check the answers of a draft before sending it"}));
  DZONG_TRY(router.Add({"POST", "/my/drafts/{id}/submit", "consent.self", "forms.application_submit",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Submit(r, p.at("id")); },
                        "send a draft as an application"}));
  DZONG_TRY(router.Add({"GET", "/my/drafts/{id}/submitted", "consent.self", "forms.application_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Submitted(r, p.at("id")); },
                        "the confirmation of an application sent, with its reference"}));
  DZONG_TRY(router.Add({"GET", "/my/drafts/{id}/files/{sha256}", "consent.self", "forms.file_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->File(r, p.at("id"), p.at("sha256"));
                        },
                        "a file I uploaded for a draft, as an attachment"}));
  return {};
}

}  // namespace dzong::forms
