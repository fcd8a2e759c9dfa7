// Agreements for agency administrators, and the exchange itself for agency
// systems: signed requests in, signed responses out.
#include <charconv>
#include <chrono>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/exchange/exchange.h"
#include "modules/registries/registries.h"

namespace dzong::exchange {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

json AgreementJson(const Agreement& a) {
  const auto opt = [](const std::optional<std::string>& v) { return v ? json(*v) : json(); };
  return {{"id", a.id},
          {"consumer", a.consumer},
          {"subsystem", a.subsystem},
          {"registry", a.registry},
          {"custodian", a.custodian},
          {"fields", a.fields},
          {"purpose_code", a.purpose_code},
          {"purpose_text", a.purpose_text},
          {"legal_basis", a.legal_basis},
          {"legal_reference", a.legal_reference},
          {"valid_from", a.valid_from},
          {"valid_to", a.valid_to},
          {"status", a.status},
          {"requested_by", a.requested_by},
          {"requested_at", a.requested_at},
          {"decided_by", opt(a.decided_by)},
          {"decided_at", opt(a.decided_at)},
          {"decision_note", opt(a.decision_note)},
          {"log_bodies", a.log_bodies}};
}

/// "2026-12-01" as the UTC time the day starts.
std::optional<std::string> DayStart(const std::string& text) {
  if (!ParseDate(text)) return std::nullopt;
  return text + "T00:00:00.000000Z";
}

Response RequestAgreement(ExchangeService& exchange, const Request& r) {
  auto body = http::ParseJsonObject(r);
  if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
  if (!r.principal.organisation) {
    return http::ErrorResponse(Error(dzong::errc::kForbidden, "you belong to no organisation"), r.request_id);
  }
  http::ObjectReader reader(*body, {"subsystem", "registry", "fields", "purpose_code", "purpose_text", "legal_basis",
                                    "legal_reference", "valid_from", "valid_to", "log_bodies"});
  Agreement a;
  a.consumer = *r.principal.organisation;
  a.subsystem = reader.RequiredString("subsystem", 1, 200).value_or("");
  a.registry = reader.RequiredString("registry", 1, 64).value_or("");
  a.purpose_code = reader.RequiredString("purpose_code", 1, 40).value_or("");
  a.purpose_text = reader.RequiredString("purpose_text", 1, 500).value_or("");
  a.legal_basis = reader.RequiredString("legal_basis", 1, 20).value_or("");
  a.legal_reference = reader.RequiredString("legal_reference", 1, 300).value_or("");
  const std::string from = reader.RequiredString("valid_from", 10, 10).value_or("");
  const std::string to = reader.RequiredString("valid_to", 10, 10).value_or("");
  if (body->contains("fields") && (*body)["fields"].is_array()) {
    for (const auto& f : (*body)["fields"]) {
      if (f.is_string()) a.fields.push_back(f.get<std::string>());
    }
  } else {
    reader.Fail("fields", "required", "fields must be a list of the registry's field names");
  }
  if (body->contains("log_bodies")) {
    if ((*body)["log_bodies"].is_boolean()) {
      a.log_bodies = (*body)["log_bodies"].get<bool>();
    } else {
      reader.Fail("log_bodies", "type", "log_bodies must be true or false");
    }
  }
  const auto start = DayStart(from);
  const auto end = DayStart(to);
  if (!from.empty() && !start) reader.Fail("valid_from", "date", "valid_from must be a date such as 2026-12-01");
  if (!to.empty() && !end) reader.Fail("valid_to", "date", "valid_to must be a date such as 2027-11-30");
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
  a.valid_from = *start;
  a.valid_to = *end;
  auto made = exchange.Request(std::move(a), audit::ActorOf(r));
  if (!made.ok()) return http::ErrorResponse(made.error(), r.request_id);
  return http::JsonResponse(201, AgreementJson(*made));
}

Response DecideAgreement(ExchangeService& exchange, const Request& r, const std::string& id_text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || end != id_text.data() + id_text.size()) {
    return http::ErrorResponse(Error(errc::kAgreementNotFound, "there is no such agreement"), r.request_id);
  }
  auto body = http::ParseJsonObject(r);
  if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
  http::ObjectReader reader(*body, {"decision", "note"});
  const std::string decision = reader.RequiredString("decision", 1, 20).value_or("");
  const std::string note = reader.OptionalString("note", 0, 500).value.value_or("");
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
  auto decided = exchange.Decide(id, decision, note, audit::ActorOf(r));
  if (!decided.ok()) return http::ErrorResponse(decided.error(), r.request_id);
  return http::JsonResponse(200, AgreementJson(*decided));
}

/// A signature parameter of Signature-Input (e.g. nonce), or empty.
std::string SignatureParam(std::string_view input, std::string_view name) {
  std::string key;
  key.reserve(name.size() + 3);
  key += ';';
  key.append(name);
  key += "=\"";
  const auto at = input.find(key);
  if (at == std::string_view::npos) return {};
  const auto start = at + key.size();
  const auto end = input.find('"', start);
  return end == std::string_view::npos ? std::string() : std::string(input.substr(start, end - start));
}

/// What every exchange request must be: signed by a registered agency
/// system, covering its purpose, with a nonce, under an agreement in force
/// for that purpose. Returns the agreement, or the refusal to send.
std::variant<Agreement, Response> Admit(ExchangeService& exchange, const Request& r, const std::string& code,
                                        std::string& nonce) {
  const auto refuse = [&](const char* error_code, std::string message) {
    return http::ErrorResponse(Error(error_code, std::move(message)), r.request_id);
  };
  const std::string_view input = r.HeaderValue("Signature-Input");
  if (r.principal.kind != "system" || input.empty()) {
    return refuse(errc::kNotSigned, "the exchange answers only requests signed by a registered agency system");
  }
  if (input.find("\"x-purpose\"") == std::string_view::npos) {
    return refuse(errc::kNotSigned, "the signature must cover the x-purpose header");
  }
  if (!r.query.empty() && input.find("\"@query\"") == std::string_view::npos) {
    return refuse(errc::kNotSigned, "the signature must cover @query");
  }
  nonce = SignatureParam(input, "nonce");
  if (nonce.size() < 16 || nonce.size() > 128) {
    return refuse(errc::kNotSigned, "the signature must carry a nonce of 16 to 128 characters");
  }
  auto agreement = exchange.Authorise(r.principal.id, code, std::string(r.HeaderValue("X-Purpose")));
  if (!agreement.ok()) return http::ErrorResponse(agreement.error(), r.request_id);
  return std::move(agreement).value();
}

/// The people an answer is about, for the audit log: every person a plot
/// or a licence names; in the population register the person the record is,
/// and a parent only when the agreement gives out the parent's CID.
std::vector<std::string> Subjects(const registries::Registry& registry, const registries::Record& record,
                                  const json& allowed) {
  std::vector<std::string> people;
  for (const std::string& person : registries::PeopleIn(registry, record)) {
    const bool shown = std::any_of(allowed.begin(), allowed.end(), [&](const json& v) { return v == person; });
    if (registry.code != "population" || person == record.key || shown) people.push_back(person);
  }
  return people;
}

/// The fields of a record the agreement allows.
json AllowedFields(const Agreement& agreement, const json& data) {
  json allowed = json::object();
  for (const std::string& field : agreement.fields) {
    if (data.contains(field)) allowed[field] = data[field];
  }
  return allowed;
}

/// Signs the answer (bound to the request by covering its signature, RFC
/// 9421 "signature";req) and has its message logged, with its nonce, in the
/// transaction that records the call.
Response SignedAnswer(ExchangeService& exchange, Signer& signer, const Request& r, const Agreement& agreement,
                      const std::string& code, const std::string& key, const std::string& nonce, json body,
                      std::vector<std::string> subjects) {
  Response res = http::JsonResponse(200, body);
  const std::string digest = "sha-256=:" + Base64Encode(Sha256(res.body)) + ":";
  auto kid = signer.ActiveKeyId();
  if (!kid.ok()) return http::ErrorResponse(kid.error(), r.request_id);
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string params = fmt::format("(\"@status\" \"content-digest\" \"signature\";req);created={};keyid=\"{}\";alg=\"ed25519\"",
                                         created, *kid);
  const std::string base = fmt::format("\"@status\": 200\n\"content-digest\": {}\n\"signature\";req: {}\n\"@signature-params\": {}",
                                       digest, r.HeaderValue("Signature"), params);
  auto signature = signer.Sign(base);
  if (!signature.ok()) return http::ErrorResponse(signature.error(), r.request_id);
  std::string response_signature = "sig1=:" + Base64Encode(signature->bytes) + ":";
  res.SetHeader("Content-Digest", digest);
  res.SetHeader("Signature-Input", "sig1=" + params);
  res.SetHeader("Signature", response_signature);
  res.SetHeader("Cache-Control", "no-store");
  res.audit_subjects = std::move(subjects);
  // The nonce and the message log commit with the call's audit events,
  // before the answer goes out; a nonce seen before refuses the answer.
  Message m;
  m.client = r.principal.id;
  m.consumer = agreement.consumer;
  m.registry = code;
  m.record_key = key;
  m.purpose = r.HeaderValue("X-Purpose");
  if (const std::string_view issue = r.HeaderValue("X-Road-Issue"); !issue.empty()) {
    m.purpose += " (";
    m.purpose.append(issue);
    m.purpose += ')';
  }
  m.agreement_id = agreement.id;
  m.request_id = r.request_id;
  m.nonce = nonce;
  m.request_signature = std::string(r.HeaderValue("Signature"));
  m.response_digest = digest;
  m.response_signature = std::move(response_signature);
  m.status = res.status;
  if (agreement.log_bodies) m.body = res.body;
  res.commit_with = [&exchange, m = std::move(m)](db::Connection& c) { return exchange.LogMessage(c, m); };
  return res;
}

Response ExchangeRead(ExchangeService& exchange, registries::RegistryService& registries, Signer& signer,
                      const Request& r, const std::string& code, const std::string& key) {
  std::string nonce;
  auto admitted = Admit(exchange, r, code, nonce);
  if (auto* refusal = std::get_if<Response>(&admitted)) return std::move(*refusal);
  const Agreement& agreement = std::get<Agreement>(admitted);
  auto record = registries.GetRecord(code, key, std::nullopt);
  if (!record.ok()) return http::ErrorResponse(record.error(), r.request_id);
  auto registry = registries.Get(code);
  if (!registry.ok()) return http::ErrorResponse(registry.error(), r.request_id);
  json allowed = AllowedFields(agreement, json::parse(record->data));
  std::vector<std::string> subjects = Subjects(*registry, *record, allowed);
  if (agreement.legal_basis == "consent") {
    // Every person the record is about must have consented: the person a
    // population record is, or the people a plot or a licence names.
    const std::vector<std::string> people =
        code == "population" ? std::vector<std::string>{key} : registries::PeopleIn(*registry, *record);
    for (const std::string& person : people) {
      if (Status consented = exchange.RequireConsent(agreement, person); !consented.ok()) {
        return http::ErrorResponse(consented.error(), r.request_id);
      }
    }
  }
  return SignedAnswer(exchange, signer, r, agreement, code, key, nonce,
                      {{"registry", code},
                       {"key", key},
                       {"version", record->version},
                       {"agreement", agreement.id},
                       {"purpose", std::string(r.HeaderValue("X-Purpose"))},
                       {"data", std::move(allowed)}},
                      std::move(subjects));
}

/// GET /exchange/v1/registries/{code}/records?owner_cid=…: the records
/// whose field (one the agreement allows, naming a person) holds that CID.
Response ExchangeQuery(ExchangeService& exchange, registries::RegistryService& registries, Signer& signer,
                       const Request& r, const std::string& code) {
  std::string nonce;
  auto admitted = Admit(exchange, r, code, nonce);
  if (auto* refusal = std::get_if<Response>(&admitted)) return std::move(*refusal);
  const Agreement& agreement = std::get<Agreement>(admitted);
  const auto invalid = [&](const std::string& field, const std::string& rule, const std::string& message) {
    return http::ErrorResponse(Error(dzong::errc::kValidation, message, {{field, rule, message}}), r.request_id);
  };
  const auto equals = r.query.find('=');
  if (r.query.empty() || equals == std::string::npos || r.query.find('&') != std::string::npos) {
    return invalid("query", "one_field", "name exactly one field and its value, e.g. ?owner_cid=11410012345");
  }
  const std::string field = r.query.substr(0, equals);
  const std::string value = r.QueryParam(field).value_or("");
  if (std::find(agreement.fields.begin(), agreement.fields.end(), field) == agreement.fields.end()) {
    return invalid(field, "agreed", fmt::format("agreement {} does not cover the field {}", agreement.id, field));
  }
  if (agreement.legal_basis == "consent") {
    if (Status consented = exchange.RequireConsent(agreement, value); !consented.ok()) {
      return http::ErrorResponse(consented.error(), r.request_id);
    }
  }
  auto found = registries.FindBySubject(code, field, value, 100);
  if (!found.ok()) return http::ErrorResponse(found.error(), r.request_id);
  auto registry = registries.Get(code);
  if (!registry.ok()) return http::ErrorResponse(registry.error(), r.request_id);
  std::vector<std::string> subjects = {value};
  json items = json::array();
  for (const auto& record : *found) {
    json allowed = AllowedFields(agreement, json::parse(record.data));
    for (const std::string& person : Subjects(*registry, record, allowed)) {
      if (std::find(subjects.begin(), subjects.end(), person) == subjects.end()) subjects.push_back(person);
    }
    items.push_back({{"key", record.key}, {"version", record.version}, {"data", std::move(allowed)}});
  }
  return SignedAnswer(exchange, signer, r, agreement, code, field + "=" + value, nonce,
                      {{"registry", code},
                       {"query", {{field, value}}},
                       {"agreement", agreement.id},
                       {"purpose", std::string(r.HeaderValue("X-Purpose"))},
                       {"items", std::move(items)}},
                      std::move(subjects));
}

json ConsentJson(const Consent& c, const std::string& now) {
  return {{"id", c.id},
          {"subject", c.subject},
          {"consumer", c.consumer},
          {"registry", c.registry},
          {"purpose_code", c.purpose_code},
          {"fields", c.fields},
          {"valid_from", c.valid_from},
          {"valid_to", c.valid_to},
          {"status", c.Status(now)},
          {"given_at", c.given_at},
          {"revoked_at", c.revoked_at ? json(*c.revoked_at) : json()},
          {"artefact", c.artefact},
          {"kid", c.kid},
          {"signature", c.signature}};
}

std::string Now() { return FormatUtc(std::chrono::system_clock::now()); }

Response GiveConsent(ExchangeService& exchange, const Request& r) {
  auto body = http::ParseJsonObject(r);
  if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
  http::ObjectReader reader(*body, {"consumer", "registry", "purpose_code", "fields", "valid_to"});
  Consent c;
  c.subject = r.principal.id;
  c.consumer = reader.RequiredString("consumer", 1, 64).value_or("");
  c.registry = reader.RequiredString("registry", 1, 64).value_or("");
  c.purpose_code = reader.RequiredString("purpose_code", 1, 40).value_or("");
  const std::string to = reader.RequiredString("valid_to", 10, 10).value_or("");
  if (body->contains("fields") && (*body)["fields"].is_array()) {
    for (const auto& f : (*body)["fields"]) {
      if (f.is_string()) c.fields.push_back(f.get<std::string>());
    }
  } else {
    reader.Fail("fields", "required", "fields must be a list of the registry's field names");
  }
  const auto end = DayStart(to);
  if (!to.empty() && !end) reader.Fail("valid_to", "date", "valid_to must be a date such as 2027-11-30");
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
  c.valid_to = *end;
  auto given = exchange.GiveConsent(std::move(c), audit::ActorOf(r));
  if (!given.ok()) return http::ErrorResponse(given.error(), r.request_id);
  return http::JsonResponse(201, ConsentJson(*given, Now()));
}

}  // namespace

Status AddRoutes(http::Router& router, ExchangeService& exchange, registries::RegistryService& registries,
                 Signer& signer) {
  ExchangeService* x = &exchange;
  registries::RegistryService* regs = &registries;
  Signer* sign = &signer;
  DZONG_TRY(router.Add({"POST", "/api/v1/agreements", "agreements.manage", "exchange.agreement_request",
                        [x](const Request& r, const http::PathParams&) { return RequestAgreement(*x, r); },
                        "ask a custodian for access to a registry"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/agreements", "agreements.manage", "exchange.agreements_list",
                        [x](const Request& r, const http::PathParams&) {
                          if (!r.principal.organisation) {
                            return http::ErrorResponse(Error(dzong::errc::kForbidden, "you belong to no organisation"),
                                                       r.request_id);
                          }
                          auto list = x->ForOrganisation(*r.principal.organisation);
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          json items = json::array();
                          for (const auto& a : *list) items.push_back(AgreementJson(a));
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "the agreements of my organisation, as consumer or custodian"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/agreements/{id}/decision", "agreements.manage", "exchange.agreement_decide",
                        [x](const Request& r, const http::PathParams& p) { return DecideAgreement(*x, r, p.at("id")); },
                        "approve, refuse or revoke an agreement (the custodian)"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/me/consents", "consent.self", "exchange.consents_list",
                        [x](const Request& r, const http::PathParams&) {
                          auto list = x->Consents(r.principal.id);
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          json items = json::array();
                          const std::string now = Now();
                          for (const auto& c : *list) items.push_back(ConsentJson(c, now));
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "my consents"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/me/consents", "consent.self", "exchange.consent_give",
                        [x](const Request& r, const http::PathParams&) { return GiveConsent(*x, r); },
                        "give consent to an organisation for a purpose"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/me/consents/{id}/revoke", "consent.self", "exchange.consent_revoke",
                        [x](const Request& r, const http::PathParams& p) {
                          std::int64_t id = 0;
                          const std::string& text = p.at("id");
                          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
                          if (ec != std::errc() || end != text.data() + text.size()) {
                            return http::ErrorResponse(Error(errc::kConsentNotFound, "there is no such consent"),
                                                       r.request_id);
                          }
                          auto revoked = x->RevokeConsent(r.principal.id, id, audit::ActorOf(r));
                          if (!revoked.ok()) return http::ErrorResponse(revoked.error(), r.request_id);
                          return http::JsonResponse(200, ConsentJson(*revoked, Now()));
                        },
                        "revoke one of my consents"}));
  DZONG_TRY(router.Add({"GET", "/exchange/v1/registries/{code}/records", "exchange.read", "exchange.read",
                        [x, regs, sign](const Request& r, const http::PathParams& p) {
                          return ExchangeQuery(*x, *regs, *sign, r, p.at("code"));
                        },
                        "find the records naming a person by an agreed field (signed agency systems)"}));
  DZONG_TRY(router.Add({"GET", "/exchange/v1/registries/{code}/records/{key}", "exchange.read", "exchange.read",
                        [x, regs, sign](const Request& r, const http::PathParams& p) {
                          return ExchangeRead(*x, *regs, *sign, r, p.at("code"), p.at("key"));
                        },
                        "read a record's agreed fields (signed agency systems)"}));
  return {};
}

}  // namespace dzong::exchange
