// The citizen's own view: what the registers hold about them, and the
// consents they have given, with a way to revoke each.
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

using nlohmann::json;
using http::Request;
using http::Response;

class Pages {
 public:
  Pages(ExchangeService& exchange, registries::RegistryService& registries,
        organisations::OrganisationService& organisations, web::Web& web)
      : exchange_(exchange), registries_(registries), organisations_(organisations), web_(web) {}

  std::string OrganisationName(const Request& r, const std::string& code) {
    auto o = organisations_.Get(code);
    if (!o.ok()) return code;
    return web_.Language(r) == "dz" && o->name_dz ? *o->name_dz : o->name_en;
  }

  Response Records(const Request& r) {
    json registers = json::array();
    // Their own population record, and the plots and licences in their name.
    auto about = registries_.RecordsAbout(r.principal.id);
    if (!about.ok()) return web_.ErrorPage(r, about.error(), 500);
    const bool dz = web_.Language(r) == "dz";
    for (const auto& [reg, held] : *about) {
      const registries::Record* record = &held;
      const json data = json::parse(record->data);
      json rows = json::array();
      for (const auto& f : reg.fields) {
        if (!data.contains(f.name)) continue;
        const json& v = data[f.name];
        rows.push_back({{"label", dz && !f.label_dz.empty() ? f.label_dz : f.description},
                        {"value", v.is_string() ? v.get<std::string>() : v.dump()}});
      }
      std::string title = dz ? reg.title_dz : reg.title_en;
      if (reg.key_field != "cid") title += " · " + record->key;
      registers.push_back({{"code", reg.code},
                           {"key", record->key},
                           {"title", title},
                           {"custodian", OrganisationName(r, reg.custodian)},
                           {"updated", web::BhutanTime(record->valid_from)},
                           {"version", record->version},
                           {"rows", std::move(rows)}});
    }
    return web_.Page(r, "my_records", "my_records", {{"registers", registers}, {"none", registers.empty()}});
  }

  Response Consents(const Request& r) {
    auto list = exchange_.Consents(r.principal.id);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    const std::string now = FormatUtc(std::chrono::system_clock::now());
    json rows = json::array();
    for (const auto& c : *list) {
      const std::string status = c.Status(now);
      std::string fields;
      for (const auto& f : c.fields) fields += (fields.empty() ? "" : ", ") + f;
      rows.push_back({{"id", c.id},
                      {"consumer", OrganisationName(r, c.consumer)},
                      {"registry", c.registry},
                      {"purpose", c.purpose_code},
                      {"fields", fields},
                      {"given", web::BhutanTime(c.given_at)},
                      {"until", web::BhutanTime(c.valid_to)},
                      {"active", status == "active"},
                      {"status", web_.Text(r, "consent_" + status)}});
    }
    return web_.Page(r, "my_consents", "my_consents", {{"consents", rows}, {"none", rows.empty()}});
  }

  Response Revoke(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), 422);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size()) {
      return web_.ErrorPage(r, Error(errc::kConsentNotFound, "there is no such consent"), 404);
    }
    auto revoked = exchange_.RevokeConsent(r.principal.id, id, audit::ActorOf(r));
    if (!revoked.ok()) return web_.ErrorPage(r, revoked.error(), 404);
    return web::Web::Redirect("/my/consents");
  }

 private:
  ExchangeService& exchange_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
};

}  // namespace

Status AddPages(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                organisations::OrganisationService& organisations, web::Web& web) {
  auto pages = std::make_shared<Pages>(exchange, registries, organisations, web);
  DZONG_TRY(router.Add({"GET", "/my/records", "consent.self", "registries.own_records",
                        [pages](const Request& r, const http::PathParams&) { return pages->Records(r); },
                        "what the registers hold about me"}));
  DZONG_TRY(router.Add({"GET", "/my/consents", "consent.self", "exchange.consents_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Consents(r); },
                        "the consents I have given"}));
  DZONG_TRY(router.Add({"POST", "/my/consents/{id}/revoke", "consent.self", "exchange.consent_revoke",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Revoke(r, p.at("id")); },
                        "revoke a consent"}));
  return {};
}

}  // namespace dzong::exchange
