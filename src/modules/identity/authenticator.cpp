// Who is asking: a bearer token (API), a session cookie (browser), the
// platform operator's configured token, or nobody.
#include "modules/identity/authenticator.h"

#include <algorithm>

#include "base/crypto.h"
#include "modules/identity/message_signature.h"
#include "web/web.h"

namespace dzong::identity {
namespace {

http::Principal FromCaller(const Caller& caller) {
  http::Principal p;
  p.id = caller.account.username;
  p.authenticated = true;
  p.account_id = caller.account.id;
  p.kind = std::string(KindName(caller.account.kind));
  p.display_name = caller.account.display_name;
  p.organisation = caller.account.organisation;
  p.all_organisations = caller.may_act_everywhere;
  p.language = caller.account.language;
  p.permissions = caller.permissions;
  p.permissions.insert("public");
  for (const Grant& grant : caller.grants) {
    if (std::find(p.roles.begin(), p.roles.end(), grant.role) == p.roles.end()) p.roles.push_back(grant.role);
  }
  return p;
}

}  // namespace

Authenticator::Authenticator(IdentityService& identity, const Clock& clock, std::string operator_token)
    : identity_(identity), clock_(clock), operator_token_(std::move(operator_token)) {}

http::Principal Authenticator::Anonymous() const {
  http::Principal anonymous;
  anonymous.permissions = {"public", "organisations.read"};
  return anonymous;
}

Result<http::Principal> Authenticator::Authenticate(const http::Request& request) const {
  if (!request.HeaderValue("Signature-Input").empty()) {
    DZONG_ASSIGN_OR_RETURN(SignedRequest signed_request, ParseSignedRequest(request, clock_.Now()));
    DZONG_ASSIGN_OR_RETURN(Caller caller, identity_.AuthenticateSystem(signed_request.key_id, signed_request.base,
                                                                      signed_request.signature));
    return FromCaller(caller);
  }
  const std::string_view authorization = request.HeaderValue("Authorization");
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (!authorization.starts_with(kBearer)) {
      return Error(dzong::errc::kUnauthenticated, "the Authorization header must be 'Bearer <token>'");
    }
    const std::string token(authorization.substr(kBearer.size()));
    if (token.starts_with("dzt_")) {
      auto caller = identity_.AuthenticateToken(token);
      if (!caller.ok()) return Error(dzong::errc::kUnauthenticated, caller.error().message);
      return FromCaller(*caller);
    }
    if (!operator_token_.empty() && ConstantTimeEquals(token, operator_token_)) {
      http::Principal op;
      op.id = "platform-operator";
      op.authenticated = true;
      op.kind = "operator";
      op.all_organisations = true;
      op.permissions = {http::kAllPermissions};
      return op;
    }
    return Error(dzong::errc::kUnauthenticated, "the bearer token is not valid");
  }
  const std::string cookie = request.Cookie(web::kSessionCookie);
  if (cookie.empty()) return Anonymous();
  auto state = identity_.ResumeSession(cookie);
  if (!state.ok()) return Anonymous();  // a stale cookie: the person is simply signed out
  http::Principal p = state->mfa_done ? FromCaller(state->caller) : Anonymous();
  if (!state->mfa_done) {
    p.id = state->caller.account.username;
    p.account_id = state->caller.account.id;
    p.kind = std::string(KindName(state->caller.account.kind));
    p.display_name = state->caller.account.display_name;
    p.mfa_pending = true;
  }
  p.session_hash = state->id_hash;
  p.csrf_token = state->csrf_token;
  return p;
}

}  // namespace dzong::identity
