// The JSON API of accounts and roles.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/identity/identity.h"

namespace dzong::identity {
std::int64_t ParseId(const std::string& text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && end == text.data() + text.size() ? v : 0;
}

namespace {

using nlohmann::json;
using http::Request;
using http::Response;

json ToJson(const Account& a) {
  return {{"id", a.id},
          {"kind", std::string(KindName(a.kind))},
          {"username", a.username},
          {"display_name", a.display_name},
          {"organisation", a.organisation ? json(*a.organisation) : json()},
          {"totp_enrolled", a.totp_enrolled},
          {"status", a.status},
          {"created_at", a.created_at}};
}

json ToJson(const Grant& g) {
  return {{"id", g.id},         {"account_id", g.account_id}, {"role", g.role},
          {"organisation", g.organisation ? json(*g.organisation) : json()},
          {"status", g.status}, {"granted_by", g.granted_by},
          {"approved_by", g.approved_by ? json(*g.approved_by) : json()}};
}

/// The caller as the identity module sees them; the platform operator's
/// token stands for a platform administrator.
Result<Caller> CallerOf(IdentityService& identity, const Request& r) {
  if (r.principal.account_id != 0) return identity.LoadCaller(r.principal.account_id);
  Caller op;
  op.account.username = r.principal.id;
  op.permissions = {"roles.grant", "roles.approve", "accounts.read", "accounts.manage", "accounts.all_organisations"};
  op.may_act_everywhere = true;
  return op;
}

Response ListAccounts(IdentityService& identity, const Request& r) {
  std::optional<std::string> scope = r.principal.all_organisations ? r.QueryParam("organisation") : r.principal.organisation;
  if (!r.principal.all_organisations && !scope) {
    return http::ErrorResponse(Error(dzong::errc::kForbidden, "you belong to no organisation"), r.request_id);
  }
  auto accounts = identity.ListAccounts(scope);
  if (!accounts.ok()) return http::ErrorResponse(accounts.error(), r.request_id);
  json items = json::array();
  std::vector<std::string> citizens;
  for (const auto& a : *accounts) {
    items.push_back(ToJson(a));
    if (a.kind == AccountKind::kCitizen) citizens.push_back(a.username);
  }
  Response res = http::JsonResponse(200, {{"items", items}});
  res.audit_subjects = std::move(citizens);
  return res;
}

Response GetAccount(IdentityService& identity, const Request& r, const std::string& id) {
  auto account = identity.GetAccount(ParseId(id));
  // Someone else's organisation is as good as absent: no hint that it exists.
  if (account.ok() && !r.principal.all_organisations && account->organisation != r.principal.organisation) {
    account = Error(errc::kNotFound, "There is no such account");
  }
  if (!account.ok()) return http::ErrorResponse(account.error(), r.request_id);
  Response res = http::JsonResponse(200, ToJson(*account));
  if (account->kind == AccountKind::kCitizen) res.audit_subjects = {account->username};
  return res;
}

Response CreateAccount(IdentityService& identity, const Request& r) {
  auto body = http::ParseJsonObject(r);
  if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
  http::ObjectReader reader(*body, {"kind", "username", "display_name", "organisation", "password", "public_key"});
  auto kind = reader.RequiredString("kind", 1, 16);
  auto username = reader.RequiredString("username", 1, 128);
  auto display_name = reader.RequiredString("display_name", 1, 200);
  auto organisation = reader.OptionalString("organisation", 1, 32);
  auto password = reader.OptionalString("password", 1, 128);
  auto public_key = reader.OptionalString("public_key", 1, 128);
  if (kind && *kind != "citizen" && *kind != "official" && *kind != "system") {
    reader.Fail("kind", "one_of", "kind must be one of: citizen, official, system");
  }
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
  NewAccount input;
  input.kind = *kind == "official" ? AccountKind::kOfficial : *kind == "system" ? AccountKind::kSystem : AccountKind::kCitizen;
  input.username = *username;
  input.display_name = *display_name;
  input.organisation = organisation.value;
  input.password = password.value.value_or("");
  input.public_key = public_key.value;
  // An agency administrator creates accounts in their own organisation only.
  if (input.kind != AccountKind::kCitizen && !r.principal.all_organisations &&
      input.organisation != r.principal.organisation) {
    return http::ErrorResponse(
        Error(errc::kOutsideOrganisation, "You can only create accounts in your own organisation",
              {{"organisation", "own_organisation", "Choose your own organisation"}}),
        r.request_id);
  }
  auto created = identity.CreateAccount(input, r.principal.id);
  if (!created.ok()) return http::ErrorResponse(created.error(), r.request_id);
  Response res = http::JsonResponse(201, ToJson(*created));
  res.SetHeader("Location", fmt::format("/api/v1/accounts/{}", created->id));
  return res;
}

Response GrantRole(IdentityService& identity, const Request& r, const std::string& id) {
  auto body = http::ParseJsonObject(r);
  if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
  http::ObjectReader reader(*body, {"role"});
  auto role = reader.RequiredString("role", 1, 64);
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), r.request_id);
  auto caller = CallerOf(identity, r);
  if (!caller.ok()) return http::ErrorResponse(caller.error(), r.request_id);
  auto grant = identity.GrantRole(*caller, ParseId(id), *role);
  if (!grant.ok()) return http::ErrorResponse(grant.error(), r.request_id);
  return http::JsonResponse(grant->status == "pending" ? 202 : 201, ToJson(*grant));
}

Response ApproveGrant(IdentityService& identity, const Request& r, const std::string& id) {
  auto caller = CallerOf(identity, r);
  if (!caller.ok()) return http::ErrorResponse(caller.error(), r.request_id);
  auto grant = identity.ApproveGrant(*caller, ParseId(id));
  if (!grant.ok()) return http::ErrorResponse(grant.error(), r.request_id);
  return http::JsonResponse(200, ToJson(*grant));
}

}  // namespace

Status AddRoutes(http::Router& router, IdentityService& identity) {
  IdentityService* s = &identity;
  DZONG_TRY(router.Add({"GET", "/api/v1/accounts", "accounts.read", "identity.accounts_list",
                        [s](const Request& r, const http::PathParams&) { return ListAccounts(*s, r); },
                        "list accounts"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/accounts/{id}", "accounts.read", "identity.account_read",
                        [s](const Request& r, const http::PathParams& p) { return GetAccount(*s, r, p.at("id")); },
                        "get an account"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/accounts", "accounts.manage", "identity.account_create",
                        [s](const Request& r, const http::PathParams&) { return CreateAccount(*s, r); },
                        "create an account"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/accounts/{id}/grants", "roles.grant", "identity.role_grant",
                        [s](const Request& r, const http::PathParams& p) { return GrantRole(*s, r, p.at("id")); },
                        "grant a role"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/grants/{id}/approve", "roles.approve", "identity.role_approve",
                        [s](const Request& r, const http::PathParams& p) { return ApproveGrant(*s, r, p.at("id")); },
                        "approve a pending role grant"}));
  return {};
}

}  // namespace dzong::identity
