// The identity pages: sign in and out, TOTP, password reset, my account,
// and the administration of accounts and roles.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/router.h"
#include "modules/identity/identity.h"
#include "web/web.h"

namespace dzong::identity {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

class Pages {
 public:
  Pages(IdentityService& identity, web::Web& web) : identity_(identity), web_(web) {}

  /// A path on this site to go back to after signing in, or empty.
  static std::string SafeReturn(const std::string& path) {
    return !path.empty() && path[0] == '/' && !path.starts_with("//") && path.find('\\') == std::string::npos ? path : "";
  }

  Response SignInForm(const Request& r) {
    return web_.Page(r, "sign_in", "sign_in_title", {{"return_to_after", SafeReturn(r.QueryParam("return").value_or(""))}});
  }

  Response SignIn(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    const std::string username = Field(*form, "username");
    const std::string password = Field(*form, "password");
    json context = {{"values", {{"username", username}}}, {"return_to_after", SafeReturn(Field(*form, "return"))}};
    std::vector<FieldError> errors;
    if (username.empty()) {
      errors.push_back({"username", "required", "Enter your Citizenship ID or username"});
    } else if (std::all_of(username.begin(), username.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      auto cid = ValidateCid("username", username);
      errors.insert(errors.end(), cid.begin(), cid.end());
    }
    if (password.empty()) errors.push_back({"password", "required", "Enter your password"});
    if (!errors.empty()) {
      return web_.Invalid(r, "sign_in", "sign_in_title", context, Error(dzong::errc::kValidation, "", errors));
    }
    auto session = identity_.SignIn(username, password, r.remote_address, std::string(r.HeaderValue("User-Agent")));
    if (!session.ok()) {
      Error e = session.error();
      if (e.fields.empty()) e.fields.push_back({"password", "refused", e.message});
      return web_.Invalid(r, "sign_in", "sign_in_title", context, e);
    }
    const std::string back = SafeReturn(Field(*form, "return"));
    const std::string next = session->needs_totp        ? "/sign-in/totp"
                             : session->needs_enrolment ? "/account/totp"
                             : back.empty()             ? "/account"
                                                        : back;
    Response res = web::Web::Redirect(next);
    res.SetHeader("Set-Cookie", web_.SessionCookie(session->raw_id));
    return res;
  }

  Response TotpForm(const Request& r) {
    if (!r.principal.mfa_pending) return web::Web::Redirect("/sign-in");
    return web_.Page(r, "totp", "totp_title", json::object());
  }

  Response Totp(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto session = identity_.CompleteTotp(r.Cookie(web::kSessionCookie), Field(*form, "code"));
    if (!session.ok()) return web_.Invalid(r, "totp", "totp_title", json::object(), session.error());
    Response res = web::Web::Redirect("/account");
    res.SetHeader("Set-Cookie", web_.SessionCookie(session->raw_id));
    return res;
  }

  Response EnrolForm(const Request& r) {
    if (!r.principal.mfa_pending || r.principal.kind != "official") return web::Web::Redirect("/sign-in");
    auto account = identity_.GetAccount(r.principal.account_id);
    if (!account.ok()) return web_.ErrorPage(r, account.error(), 500);
    if (account->totp_enrolled) return web::Web::Redirect("/sign-in/totp");
    auto enrolment = identity_.BeginTotpEnrolment(*account);
    return web_.Page(r, "totp_enrol", "totp_enrol_title",
                     {{"secret", enrolment->secret_base32}, {"qr_svg", enrolment->qr_svg}});
  }

  Response Enrol(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    const std::string secret = Field(*form, "secret");
    auto session = identity_.ConfirmTotpEnrolment(r.Cookie(web::kSessionCookie), secret, Field(*form, "code"));
    if (!session.ok()) {
      auto account = identity_.GetAccount(r.principal.account_id);
      json context = {{"secret", secret}};
      if (account.ok()) {
        // Show the same secret again, so the app set up a moment ago still matches.
        context["qr_svg"] = QrSvg(fmt::format("otpauth://totp/Dzong:{}?secret={}&issuer=Dzong", account->username, secret));
      }
      return web_.Invalid(r, "totp_enrol", "totp_enrol_title", context, session.error());
    }
    Response res = web::Web::Redirect("/account");
    res.SetHeader("Set-Cookie", web_.SessionCookie(session->raw_id));
    return res;
  }

  Response SignOut(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    (void)identity_.SignOut(r.Cookie(web::kSessionCookie));
    Response res = web::Web::Redirect("/");
    res.SetHeader("Set-Cookie", web_.SessionCookie(""));
    return res;
  }

  Response Account(const Request& r, json extra = json::object()) {
    auto caller = identity_.LoadCaller(r.principal.account_id);
    if (!caller.ok()) return web_.ErrorPage(r, caller.error(), 500);
    auto sessions = identity_.ListSessions(r.principal.account_id, r.principal.session_hash);
    auto tokens = identity_.ListTokens(r.principal.account_id);
    json context = std::move(extra);
    context["username"] = caller->account.username;
    json roles = json::array();
    for (const auto& g : caller->grants) roles.push_back(g.organisation ? g.role + " (" + *g.organisation + ")" : g.role);
    context["roles"] = roles;
    json session_rows = json::array();
    if (sessions.ok()) {
      for (const auto& s : *sessions) {
        session_rows.push_back({{"created_at", web::BhutanTime(s.created_at)},
                                {"last_seen_at", web::BhutanTime(s.last_seen_at)},
                                {"remote", s.remote},
                                {"current", s.current}});
      }
    }
    context["sessions"] = session_rows;
    json token_rows = json::array();
    if (tokens.ok()) {
      for (const auto& t : *tokens) {
        token_rows.push_back({{"id", t.id}, {"name", t.name}, {"scopes", t.scopes},
                              {"expires_at", web::BhutanTime(t.expires_at)}, {"revoked", t.revoked}});
      }
    }
    context["tokens"] = token_rows;
    std::string permissions;
    for (const auto& p : caller->permissions) permissions += (permissions.empty() ? "" : " ") + p;
    context["permissions"] = permissions;
    return web_.Page(r, "account", "my_account", context);
  }

  Response SignOutEverywhere(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    Status s = identity_.SignOutEverywhere(r.principal.account_id);
    if (!s.ok()) return web_.ErrorPage(r, s.error(), 500);
    Response res = web::Web::Redirect("/sign-in");
    res.SetHeader("Set-Cookie", web_.SessionCookie(""));
    return res;
  }

  Response CreateToken(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto token = identity_.CreateToken(r.principal.account_id, Field(*form, "name"), Field(*form, "scopes"),
                                       std::chrono::hours(24 * 90));
    if (!token.ok()) return web_.ErrorPage(r, token.error(), 422);
    return Account(r, {{"token_created", *token}});
  }

  Response RevokeToken(const Request& r, const std::string& id) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    Status s = identity_.RevokeToken(r.principal.account_id, ParseId(id));
    if (!s.ok()) return web_.ErrorPage(r, s.error(), 404);
    return web::Web::Redirect("/account");
  }

  Response ForgottenForm(const Request& r) {
    return web_.Page(r, "forgotten_password", "forgotten_password_title", json::object());
  }

  Response Forgotten(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    Status s = identity_.RequestPasswordReset(Field(*form, "username"));
    if (!s.ok()) return web_.ErrorPage(r, s.error(), 500);
    return web_.Page(r, "forgotten_password", "forgotten_password_title", {{"sent", true}});
  }

  Response ResetForm(const Request& r) {
    return web_.Page(r, "reset_password", "reset_password_title", {{"token", r.QueryParam("token").value_or("")}});
  }

  Response Reset(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    const std::string token = Field(*form, "token");
    Status s = identity_.ResetPassword(token, Field(*form, "password"));
    if (!s.ok()) {
      Error e = s.error();
      if (e.fields.empty()) e.fields.push_back({"password", "reset_token", e.message});
      return web_.Invalid(r, "reset_password", "reset_password_title", {{"token", token}}, e);
    }
    return web::Web::Redirect("/sign-in");
  }

  Response Administration(const Request& r) {
    auto context = AdminContext(r);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 500);
    http::Response page = web_.Page(r, "admin_accounts", "administration", *context);
    // The citizens listed: each sees this look at their account.
    for (const auto& a : (*context)["accounts"]) {
      if (a.value("kind", "") == "citizen") page.audit_subjects.push_back(a.value("username", ""));
    }
    return page;
  }

  /// What the administration page shows: the organisation's accounts, the
  /// roles to grant, and grants waiting for a second administrator.
  Result<json> AdminContext(const Request& r) {
    const std::optional<std::string> scope = r.principal.all_organisations ? std::nullopt : r.principal.organisation;
    auto accounts = identity_.ListAccounts(scope);
    if (!accounts.ok()) return accounts.error();
    // 25 accounts a page; ?page=N.
    constexpr std::size_t kPerPage = 25;
    const std::size_t pages = std::max<std::size_t>(1, (accounts->size() + kPerPage - 1) / kPerPage);
    std::size_t current = static_cast<std::size_t>(std::max<std::int64_t>(1, ParseId(r.QueryParam("page").value_or("1"))));
    current = std::min(current, pages);
    auto active = identity_.ListGrants(std::nullopt, "active");
    json rows = json::array();
    for (std::size_t i = (current - 1) * kPerPage; i < std::min(accounts->size(), current * kPerPage); ++i) {
      const auto& a = (*accounts)[i];
      json grants = json::array();
      if (active.ok()) {
        for (const auto& g : *active) {
          if (g.account_id == a.id) grants.push_back({{"id", g.id}, {"role", g.role}, {"username", a.username}});
        }
      }
      rows.push_back({{"display_name", a.display_name}, {"username", a.username},
                      {"kind", std::string(KindName(a.kind))}, {"organisation", a.organisation.value_or("")},
                      {"grants", grants}});
    }

    auto roles = identity_.RoleCodes();
    auto pending = identity_.ListGrants(std::nullopt, "pending");
    json context = json::object();
    context["accounts"] = rows;
    context["may_grant"] = r.principal.May("roles.grant");
    if (pages > 1) {
      json links = json::array();
      for (std::size_t p = 1; p <= pages; ++p) {
        links.push_back({{"number", p}, {"href", fmt::format("/admin/accounts?page={}", p)}, {"current", p == current}});
      }
      context["pagination"] = {{"pages", links},
                               {"previous", current > 1 ? json(fmt::format("/admin/accounts?page={}", current - 1)) : json(false)},
                               {"next", current < pages ? json(fmt::format("/admin/accounts?page={}", current + 1)) : json(false)}};
    }
    context["organisation"] = scope.value_or("");
    context["roles"] = roles.ok() ? json(*roles) : json::array();
    const bool approver = r.principal.May("roles.approve");
    context["pending_count"] = pending.ok() && !pending->empty() && approver ? json(std::to_string(pending->size()))
                                                                            : json(false);
    json waiting = json::array();
    if (approver && pending.ok()) {
      for (const auto& g : *pending) {
        std::string who = std::to_string(g.account_id);
        for (const auto& a : *accounts) {
          if (a.id == g.account_id) who = a.username;
        }
        waiting.push_back({{"id", g.id}, {"account", who}, {"role", g.role}, {"granted_by", g.granted_by},
                           {"own", g.granted_by == r.principal.id}});
      }
    }
    context["has_pending"] = !waiting.empty();
    context["pending"] = waiting;
    context["may_create"] = r.principal.May("accounts.manage");
    context["own_organisation"] = r.principal.organisation.value_or("");
    context["any_organisation"] = r.principal.all_organisations;
    return context;
  }

  Response CreateAccount(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    NewAccount input;
    const std::string kind = Field(*form, "kind");
    input.kind = kind == "citizen" ? AccountKind::kCitizen : kind == "system" ? AccountKind::kSystem : AccountKind::kOfficial;
    if (input.kind == AccountKind::kSystem) input.public_key = Field(*form, "public_key");
    input.username = Field(*form, "username");
    input.display_name = Field(*form, "display_name");
    input.password = Field(*form, "password");
    std::string organisation = r.principal.all_organisations ? Field(*form, "organisation")
                                                             : r.principal.organisation.value_or("");
    if (input.kind != AccountKind::kCitizen && !organisation.empty()) input.organisation = organisation;
    auto created = identity_.CreateAccount(input, r.principal.id);
    if (!created.ok()) return AdminInvalid(r, created.error());
    return web::Web::Redirect("/admin/accounts");
  }

  Response Approve(const Request& r, const std::string& id) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto caller = identity_.LoadCaller(r.principal.account_id);
    if (!caller.ok()) return web_.ErrorPage(r, caller.error(), 403);
    auto approved = identity_.ApproveGrant(*caller, ParseId(id));
    if (!approved.ok()) {
      Error e = approved.error();
      if (e.fields.empty()) e.fields.push_back({"account", "refused", e.message});
      return AdminInvalid(r, e);
    }
    return web::Web::Redirect("/admin/accounts");
  }

  Response Revoke(const Request& r, const std::string& id) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto caller = identity_.LoadCaller(r.principal.account_id);
    if (!caller.ok()) return web_.ErrorPage(r, caller.error(), 403);
    Status revoked = identity_.RevokeGrant(*caller, ParseId(id));
    if (!revoked.ok()) {
      Error e = revoked.error();
      if (e.fields.empty()) e.fields.push_back({"account", "refused", e.message});
      return AdminInvalid(r, e);
    }
    return web::Web::Redirect("/admin/accounts");
  }

  Response Grant(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto caller = identity_.LoadCaller(r.principal.account_id);
    if (!caller.ok()) return web_.ErrorPage(r, caller.error(), 403);
    const std::string username = Field(*form, "account");
    auto accounts = identity_.ListAccounts(std::nullopt);
    std::int64_t target = 0;
    if (accounts.ok()) {
      for (const auto& a : *accounts) {
        if (a.username == username) target = a.id;
      }
    }
    if (target == 0) {
      return AdminInvalid(r, Error(errc::kNotFound, "", {{"account", "not_found", "There is no account " + username}}));
    }
    auto grant = identity_.GrantRole(*caller, target, Field(*form, "role"));
    if (!grant.ok()) {
      Error e = grant.error();
      if (e.fields.empty()) e.fields.push_back({"account", "refused", e.message});
      return AdminInvalid(r, e);
    }
    return web::Web::Redirect("/admin/accounts");
  }

 private:
  static std::string Field(const web::Form& form, const char* name) {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  }

  Response FormError(const Request& r, const Error& e) {
    return web_.ErrorPage(r, e, e.code == "identity.csrf_failed" ? 422 : 415);
  }

  /// The administration page again, with the problem at the top.
  Response AdminInvalid(const Request& r, const Error& e) {
    auto context = AdminContext(r);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 500);
    return web_.Invalid(r, "admin_accounts", "administration", *context, e);
  }

  IdentityService& identity_;
  web::Web& web_;
};

}  // namespace

Status AddPages(http::Router& router, IdentityService& identity, web::Web& web) {
  auto pages = std::make_shared<Pages>(identity, web);
  const auto page = [pages](Response (Pages::*method)(const Request&)) {
    return [pages, method](const Request& r, const http::PathParams&) { return ((*pages).*method)(r); };
  };
  DZONG_TRY(router.Add({"GET", "/sign-in", http::kPublic, http::kNoAuditEvent, page(&Pages::SignInForm), "sign-in form"}));
  DZONG_TRY(router.Add({"POST", "/sign-in", http::kPublic, "identity.sign_in", page(&Pages::SignIn), "sign in"}));
  DZONG_TRY(router.Add({"GET", "/sign-in/totp", http::kPublic, http::kNoAuditEvent, page(&Pages::TotpForm), "TOTP challenge"}));
  DZONG_TRY(router.Add({"POST", "/sign-in/totp", http::kPublic, "identity.totp", page(&Pages::Totp), "answer the TOTP challenge"}));
  DZONG_TRY(router.Add({"GET", "/account/totp", http::kPublic, http::kNoAuditEvent, page(&Pages::EnrolForm), "TOTP enrolment"}));
  DZONG_TRY(router.Add({"POST", "/account/totp", http::kPublic, "identity.totp_enrol", page(&Pages::Enrol), "confirm TOTP enrolment"}));
  DZONG_TRY(router.Add({"POST", "/sign-out", http::kPublic, "identity.sign_out", page(&Pages::SignOut), "sign out"}));
  DZONG_TRY(router.Add({"GET", "/account", "account.self", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->Account(r); }, "my account"}));
  DZONG_TRY(router.Add({"POST", "/account/sign-out-everywhere", "account.self", "identity.sign_out_everywhere",
                        page(&Pages::SignOutEverywhere), "end every session"}));
  DZONG_TRY(router.Add({"POST", "/account/tokens", "account.self", "identity.token_create", page(&Pages::CreateToken),
                        "create an API token"}));
  DZONG_TRY(router.Add({"POST", "/account/tokens/{id}/revoke", "account.self", "identity.token_revoke",
                        [pages](const Request& r, const http::PathParams& p) { return pages->RevokeToken(r, p.at("id")); },
                        "revoke an API token"}));
  DZONG_TRY(router.Add({"GET", "/forgotten-password", http::kPublic, http::kNoAuditEvent, page(&Pages::ForgottenForm),
                        "forgotten password form"}));
  DZONG_TRY(router.Add({"POST", "/forgotten-password", http::kPublic, "identity.password_reset_request",
                        page(&Pages::Forgotten), "ask for a reset link"}));
  DZONG_TRY(router.Add({"GET", "/reset-password", http::kPublic, http::kNoAuditEvent, page(&Pages::ResetForm),
                        "reset password form"}));
  DZONG_TRY(router.Add({"POST", "/reset-password", http::kPublic, "identity.password_reset", page(&Pages::Reset),
                        "set a new password"}));
  DZONG_TRY(router.Add({"GET", "/admin/accounts", "accounts.read", "identity.administration",
                        [pages](const Request& r, const http::PathParams&) { return pages->Administration(r); },
                        "accounts of the administrator's organisation"}));
  DZONG_TRY(router.Add({"POST", "/admin/grants", "roles.grant", "identity.role_grant", page(&Pages::Grant), "grant a role"}));
  DZONG_TRY(router.Add({"POST", "/admin/grants/{id}/revoke", "roles.grant", "identity.role_revoke",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Revoke(r, p.at("id")); },
                        "revoke a role grant"}));
  DZONG_TRY(router.Add({"POST", "/admin/accounts", "accounts.manage", "identity.account_create",
                        page(&Pages::CreateAccount), "create an account"}));
  DZONG_TRY(router.Add({"POST", "/admin/grants/{id}/approve", "roles.approve", "identity.role_approve",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Approve(r, p.at("id")); },
                        "approve a role grant as the second administrator"}));
  return {};
}

}  // namespace dzong::identity
