// Agreements for agency administrators on the web: their organisation's
// agreements as consumer and as custodian, the form that asks a custodian
// for access, and the agreement itself, which the custodian's administrator
// approves, refuses or revokes. The rules are ExchangeService's, as for the
// JSON API.
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/exchange/exchange.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "web/web.h"

namespace dzong::exchange {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr const char* kLegalBases[] = {"law", "consent", "public_task"};

std::string FormText(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

std::optional<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

/// A subsystem's own name: what follows BT/GOV/<ORG>/.
bool SubsystemName(const std::string& name) {
  return !name.empty() && name.size() <= 60 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

/// What the agreement is now: its stored status, or expired once an
/// approved agreement's period has ended.
std::string StatusNow(const Agreement& a) {
  if (a.status == "approved" && FormatUtc(std::chrono::system_clock::now()) >= a.valid_to) return "expired";
  return a.status;
}

class AgreementPages {
 public:
  AgreementPages(ExchangeService& exchange, registries::RegistryService& registries,
                 organisations::OrganisationService& organisations, web::Web& web)
      : exchange_(exchange), registries_(registries), organisations_(organisations), web_(web) {}

  Response List(const Request& r) {
    const std::string own = r.principal.organisation.value_or("");
    auto list = exchange_.ForOrganisation(own);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json consumer = json::array();
    json custodian = json::array();
    for (const Agreement& a : *list) {
      json row = Summary(r, a);
      if (a.consumer == own) {
        row["other"] = OrganisationName(r, a.custodian);
        consumer.push_back(row);
      }
      if (a.custodian == own) {
        row["other"] = OrganisationName(r, a.consumer);
        custodian.push_back(row);
      }
    }
    return web_.Page(r, "agreements", "agreements",
                     {{"as_consumer", consumer},
                      {"no_consumer", consumer.empty()},
                      {"as_custodian", custodian},
                      {"no_custodian", custodian.empty()}});
  }

  Response NewForm(const Request& r) {
    const std::string code = r.QueryParam("registry").value_or("");
    if (code.empty()) return ChooseRegistry(r);
    auto registry = registries_.Get(code);
    if (!registry.ok()) return ChooseRegistry(r);
    return web_.Page(r, "agreement_new", "agreement_new", FormContext(r, *registry, json::object(), {}));
  }

  Response Create(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), form.error().code == "identity.csrf_failed" ? 422 : 415);
    auto registry = registries_.Get(FormText(*form, "registry"));
    if (!registry.ok()) return ChooseRegistry(r);
    const std::string own = r.principal.organisation.value_or("");
    Agreement a;
    a.consumer = own;
    a.registry = registry->code;
    for (const auto& f : registry->fields) {
      if (form->contains("field." + f.name)) a.fields.push_back(f.name);
    }
    const std::string subsystem = FormText(*form, "subsystem");
    // A name that is not one leaves the subsystem empty, which the service
    // refuses with every other problem of the form, and stores nothing.
    a.subsystem = fmt::format("BT/GOV/{}/{}", own, SubsystemName(subsystem) ? subsystem : "");
    a.purpose_code = FormText(*form, "purpose_code");
    a.purpose_text = FormText(*form, "purpose_text");
    a.legal_basis = FormText(*form, "legal_basis");
    a.legal_reference = FormText(*form, "legal_reference");
    a.log_bodies = form->contains("log_bodies");
    const std::string from = FormText(*form, "valid_from");
    const std::string to = FormText(*form, "valid_to");
    std::vector<FieldError> dates;
    if (!ParseDate(from)) dates.push_back({"valid_from", "date", "valid_from must be a date"});
    if (!ParseDate(to)) dates.push_back({"valid_to", "date", "valid_to must be a date"});
    if (dates.empty()) {
      a.valid_from = from + "T00:00:00.000000Z";
      a.valid_to = to + "T00:00:00.000000Z";
    }
    auto made = exchange_.Request(a, audit::ActorOf(r));
    if (made.ok()) return web::Web::Redirect(fmt::format("/agreements/{}", made->id));
    if (made.error().code != dzong::errc::kValidation) return web_.ErrorPage(r, made.error(), 500);
    std::vector<FieldError> errors;
    for (const FieldError& e : made.error().fields) {
      // The page names a bad date itself; the service only saw it missing.
      if (!(e.field == "valid_to" && e.rule == "date" && !dates.empty())) errors.push_back(e);
    }
    errors.insert(errors.end(), dates.begin(), dates.end());
    json values = {{"subsystem", subsystem},
                   {"purpose_code", a.purpose_code},
                   {"purpose_text", a.purpose_text},
                   {"legal_basis", a.legal_basis},
                   {"legal_reference", a.legal_reference},
                   {"valid_from", from},
                   {"valid_to", to},
                   {"log_bodies", a.log_bodies}};
    return web_.ShowProblems(r, "agreement_new", "agreement_new", FormContext(r, *registry, values, a.fields),
                             Localise(r, errors));
  }

  Response One(const Request& r, const std::string& id_text) {
    auto context = OneContext(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    return web_.Page(r, "agreement", "agreement", *context);
  }

  Response Decide(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), form.error().code == "identity.csrf_failed" ? 422 : 415);
    auto context = OneContext(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    const std::string decision = FormText(*form, "decision");
    const std::string note = FormText(*form, "note");
    auto decided = exchange_.Decide(*ParseId(id_text), decision, note, audit::ActorOf(r));
    if (decided.ok()) return web::Web::Redirect(fmt::format("/agreements/{}", decided->id));
    const Error& e = decided.error();
    (*context)["note"] = note;
    if (e.code == errc::kAlreadyDecided) {
      return web_.ShowProblems(r, "agreement", "agreement", *context,
                               {{"note", "already_decided", web_.Text(r, "agreement_already_decided")}}, 409);
    }
    if (e.code == errc::kNotCustodian) return web_.ErrorPage(r, e, 403);
    if (e.code != dzong::errc::kValidation) return web_.ErrorPage(r, e, 500);
    return web_.ShowProblems(r, "agreement", "agreement", *context, Localise(r, e.fields));
  }

 private:
  bool Dz(const Request& r) const { return web_.Language(r) == "dz"; }

  std::string OrganisationName(const Request& r, const std::string& code) {
    auto o = organisations_.Get(code);
    if (!o.ok()) return code;
    return Dz(r) && o->name_dz ? *o->name_dz : o->name_en;
  }

  std::string RegistryTitle(const Request& r, const std::string& code) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return code;
    return Dz(r) ? registry->title_dz : registry->title_en;
  }

  json Summary(const Request& r, const Agreement& a) {
    const std::string status = StatusNow(a);
    return {{"id", a.id},
            {"href", fmt::format("/agreements/{}", a.id)},
            {"registry", RegistryTitle(r, a.registry)},
            {"purpose", a.purpose_code},
            {"until", a.valid_to.substr(0, 10)},
            {"log_bodies", a.log_bodies},
            {"status", web_.Text(r, "agreement_status_" + status)},
            {"approved", status == "approved"},
            {"requested", status == "requested"}};
  }

  Response ChooseRegistry(const Request& r) {
    auto list = registries_.List();
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json registers = json::array();
    for (const auto& reg : *list) {
      registers.push_back({{"code", reg.code},
                           {"title", Dz(r) ? reg.title_dz : reg.title_en},
                           {"custodian", OrganisationName(r, reg.custodian)},
                           {"first", registers.empty()}});
    }
    return web_.Page(r, "agreement_registry", "agreement_new", {{"registers", registers}});
  }

  json FormContext(const Request& r, const registries::Registry& registry, const json& values,
                   const std::vector<std::string>& chosen) {
    json fields = json::array();
    for (const auto& f : registry.fields) {
      fields.push_back({{"name", f.name},
                        {"label", Dz(r) && !f.label_dz.empty() ? f.label_dz : f.description},
                        {"pii", f.pii},
                        {"first", fields.empty()},
                        {"checked", std::find(chosen.begin(), chosen.end(), f.name) != chosen.end()}});
    }
    json bases = json::array();
    const std::string basis = values.is_object() ? values.value("legal_basis", "") : "";
    for (const char* b : kLegalBases) {
      bases.push_back({{"value", b},
                       {"label", web_.Text(r, std::string("legal_basis_") + b)},
                       {"checked", basis == b},
                       {"first", bases.empty()}});
    }
    json context = values.is_object() ? values : json::object();
    context["registry"] = registry.code;
    context["registry_title"] = Dz(r) ? registry.title_dz : registry.title_en;
    context["custodian"] = OrganisationName(r, registry.custodian);
    context["fields"] = fields;
    context["bases"] = bases;
    context["prefix"] = fmt::format("BT/GOV/{}/", r.principal.organisation.value_or(""));
    return context;
  }

  std::vector<FieldError> Localise(const Request& r, const std::vector<FieldError>& errors) {
    std::vector<FieldError> out;
    for (const FieldError& e : errors) {
      std::size_t min = 0, max = 0;
      std::string rule = e.rule;
      if (e.field == "purpose_text") min = 1, max = 500;
      if (e.field == "legal_reference") min = 1, max = 300;
      if (e.field == "fields" && rule == "required") rule = "choose";
      if (e.field == "legal_basis") rule = "one_of";
      out.push_back({e.field, e.rule, web_.Problem(r, rule, web_.Text(r, "agreement_" + e.field), min, max)});
    }
    return out;
  }

  /// The agreement, for the administrators of its consumer and its
  /// custodian; anyone else is told it does not exist.
  Result<json> OneContext(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return Error(errc::kAgreementNotFound, "there is no such agreement");
    DZONG_ASSIGN_OR_RETURN(Agreement a, exchange_.Get(*id));
    const std::string own = r.principal.organisation.value_or("");
    if (own != a.consumer && own != a.custodian) {
      return Error(errc::kAgreementNotFound, fmt::format("there is no agreement {}", *id));
    }
    json context = Summary(r, a);
    auto registry = registries_.Get(a.registry);
    json fields = json::array();
    for (const auto& name : a.fields) {
      std::string label = name;
      if (registry.ok()) {
        for (const auto& f : registry->fields) {
          if (f.name == name) label = Dz(r) && !f.label_dz.empty() ? f.label_dz : f.description;
        }
      }
      fields.push_back(label);
    }
    context["fields"] = fields;
    context["consumer"] = OrganisationName(r, a.consumer);
    context["custodian"] = OrganisationName(r, a.custodian);
    context["subsystem"] = a.subsystem;
    context["purpose_text"] = a.purpose_text;
    context["legal_basis"] = web_.Text(r, "legal_basis_" + a.legal_basis);
    context["legal_reference"] = a.legal_reference;
    context["from"] = a.valid_from.substr(0, 10);
    context["requested_by"] = a.requested_by;
    context["requested_at"] = web::BhutanTime(a.requested_at);
    context["decided"] = a.decided_at.has_value();
    context["decided_by"] = a.decided_by.value_or("");
    context["decided_at"] = a.decided_at ? web::BhutanTime(*a.decided_at) : "";
    context["decision_note"] = a.decision_note.value_or("");
    const bool custodian = own == a.custodian;
    context["may_decide"] = custodian && a.status == "requested";
    context["may_revoke"] = custodian && a.status == "approved";
    context["action"] = fmt::format("/agreements/{}", a.id);
    return context;
  }

  ExchangeService& exchange_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
};

}  // namespace

Status AddAgreementPages(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                         organisations::OrganisationService& organisations, web::Web& web) {
  auto pages = std::make_shared<AgreementPages>(exchange, registries, organisations, web);
  DZONG_TRY(router.Add({"GET", "/agreements", "agreements.manage", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->List(r); },
                        "the organisation's agreements, as consumer and as custodian"}));
  DZONG_TRY(router.Add({"GET", "/agreements/new", "agreements.manage", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->NewForm(r); },
                        "the form that asks a custodian for an agreement"}));
  DZONG_TRY(router.Add({"POST", "/agreements/new", "agreements.manage", "exchange.agreement_request",
                        [pages](const Request& r, const http::PathParams&) { return pages->Create(r); },
                        "ask a custodian for an agreement"}));
  DZONG_TRY(router.Add({"GET", "/agreements/{id}", "agreements.manage", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams& p) { return pages->One(r, p.at("id")); },
                        "an agreement, with the custodian's decision"}));
  DZONG_TRY(router.Add({"POST", "/agreements/{id}", "agreements.manage", "exchange.agreement_decide",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Decide(r, p.at("id")); },
                        "approve, refuse or revoke an agreement (the custodian)"}));
  return {};
}

}  // namespace dzong::exchange
