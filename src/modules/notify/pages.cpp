// The notify module's pages: a person's inbox and contact details, and the
// officers' list of notices about their organisation's applications that
// could not be delivered, with a button to try again.
#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/audit/audit.h"
#include "modules/notify/service.h"
#include "web/web.h"

namespace dzong::notify {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::string FormText(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

std::optional<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

bool IsOfficer(const Request& r) {
  for (const std::string& role : r.principal.roles) {
    if (role == "officer") return true;
  }
  return false;
}

class Pages {
 public:
  Pages(NotifyService& service, web::Web& web) : service_(service), web_(web) {}

  Response Inbox(const Request& r) {
    const std::string language = web_.Language(r);
    std::optional<std::string> officer_of;
    if (IsOfficer(r)) officer_of = r.principal.organisation;
    auto notices = service_.Inbox(r.principal.id, officer_of, language);
    if (!notices.ok()) return web_.ErrorPage(r, notices.error(), 500);
    json rows = json::array();
    for (const Shown& s : *notices) {
      rows.push_back({{"id", s.id},
                      {"subject", s.subject},
                      {"paragraphs", Paragraphs(s.body)},
                      {"path", s.path},
                      {"at", web::BhutanTime(s.created_at)},
                      {"to_organisation", s.channel == "organisation"},
                      {"organisation", s.recipient}});
    }
    return web_.Page(r, "notify_inbox", "notify_inbox_title", {{"notices", rows}, {"none", rows.empty()}});
  }

  Response ContactForm(const Request& r) {
    auto contact = service_.GetContact(r.principal.id);
    if (!contact.ok()) return web_.ErrorPage(r, contact.error(), 500);
    json context = Values(*contact);
    context["saved"] = r.QueryParam("saved").has_value();
    return web_.Page(r, "notify_contact", "notify_contact_title", std::move(context));
  }

  Response SaveContact(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    Contact given{FormText(*form, "email"), FormText(*form, "mobile"), FormText(*form, "language"), ""};
    auto saved = service_.SetContact(r.principal.id, given, audit::ActorOf(r));
    if (saved.ok()) return web::Web::Redirect("/account/contact?saved=1");
    if (saved.error().code != dzong::errc::kValidation) return web_.ErrorPage(r, saved.error(), 500);
    std::vector<FieldError> shown;
    for (const FieldError& f : saved.error().fields) {
      shown.push_back({f.field, f.rule, web_.Text(r, "notify_problem_" + f.field)});
    }
    return web_.ShowProblems(r, "notify_contact", "notify_contact_title", Values(given), shown);
  }

  Response Failed(const Request& r) {
    const std::string organisation = r.principal.organisation.value_or("");
    auto notices = service_.Failed(organisation, web_.Language(r));
    if (!notices.ok()) return web_.ErrorPage(r, notices.error(), 500);
    json rows = json::array();
    std::vector<std::string> people;
    for (const Shown& s : *notices) {
      rows.push_back({{"id", s.id},
                      {"subject", s.subject},
                      {"application", s.application},
                      {"recipient", s.recipient},
                      {"channel", web_.Text(r, "notify_channel_" + s.channel)},
                      {"reason", s.reason},
                      {"attempts", s.attempts},
                      {"failed_at", s.failed_at.empty() ? "" : web::BhutanTime(s.failed_at)},
                      {"action", fmt::format("/notifications/failed/{}/retry", s.id)}});
      // A citizen's username is their CID: the record of this view names them.
      if (s.channel == "account" && s.recipient.size() == 11 &&
          s.recipient.find_first_not_of("0123456789") == std::string::npos &&
          std::find(people.begin(), people.end(), s.recipient) == people.end()) {
        people.push_back(s.recipient);
      }
    }
    Response res = web_.Page(r, "notify_failed", "notify_failed_title",
                             {{"notices", rows}, {"none", rows.empty()}, {"retried", r.QueryParam("retried").has_value()}});
    res.audit_subjects = std::move(people);
    return res;
  }

  Response TryAgain(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    const auto id = ParseId(id_text);
    if (!id) return web_.ErrorPage(r, Error(errc::kNotFound, "no such notice"), 404);
    Status retried = service_.TryAgain(*id, r.principal.organisation.value_or(""), audit::ActorOf(r));
    if (retried.ok()) return web::Web::Redirect("/notifications/failed?retried=1");
    if (retried.error().code == errc::kNotFailed) return web::Web::Redirect("/notifications/failed");
    return web_.ErrorPage(r, retried.error(), retried.error().code == errc::kNotFound ? 404 : 500);
  }

 private:
  Response FormError(const Request& r, const Error& e) {
    return web_.ErrorPage(r, e, e.code == "identity.csrf_failed" ? 422 : 415);
  }

  static json Paragraphs(const std::string& body) {
    json out = json::array();
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t end = body.find("\n\n", start);
      if (end == std::string::npos) end = body.size();
      const std::string part = body.substr(start, end - start);
      if (part.find_first_not_of(" \n") != std::string::npos) {
        json lines = json::array();
        std::size_t from = 0;
        while (from <= part.size()) {
          std::size_t to = part.find('\n', from);
          if (to == std::string::npos) to = part.size();
          lines.push_back({{"text", part.substr(from, to - from)}, {"first", from == 0}});
          from = to + 1;
        }
        out.push_back({{"lines", lines}});
      }
      start = end + 2;
    }
    return out;
  }

  static json Values(const Contact& c) {
    return {{"email", c.email},
            {"mobile", c.mobile},
            {"language_en", c.language == "en"},
            {"language_dz", c.language == "dz"},
            {"language_account", c.language.empty()}};
  }

  NotifyService& service_;
  web::Web& web_;
};

}  // namespace

Status AddPages(http::Router& router, NotifyService& service, web::Web& web) {
  auto pages = std::make_shared<Pages>(service, web);
  DZONG_TRY(router.Add({"GET", "/my/notifications", "account.self", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->Inbox(r); },
                        "my notifications, newest first"}));
  DZONG_TRY(router.Add({"GET", "/account/contact", "account.self", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->ContactForm(r); },
                        "my email address, mobile number and the language of my messages"}));
  DZONG_TRY(router.Add({"POST", "/account/contact", "account.self", "notify.contact_update",
                        [pages](const Request& r, const http::PathParams&) { return pages->SaveContact(r); },
                        "change my contact details"}));
  DZONG_TRY(router.Add({"GET", "/notifications/failed", "notifications.failed", "notify.failed_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Failed(r); },
                        "notices about the organisation's applications that could not be delivered"}));
  DZONG_TRY(router.Add({"POST", "/notifications/failed/{id}/retry", "notifications.failed", "notify.retry",
                        [pages](const Request& r, const http::PathParams& p) { return pages->TryAgain(r, p.at("id")); },
                        "try a failed notice again"}));
  return {};
}

}  // namespace dzong::notify
