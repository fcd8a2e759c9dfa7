#include "http/auth.h"

#include "base/crypto.h"

namespace dzong::http {

OperatorTokenAuthenticator::OperatorTokenAuthenticator(std::string token,
                                                       std::set<std::string, std::less<>> anonymous_permissions)
    : token_(std::move(token)), anonymous_permissions_(std::move(anonymous_permissions)) {}

Result<Principal> OperatorTokenAuthenticator::Authenticate(const Request& request) const {
  const std::string_view authorization = request.HeaderValue("Authorization");
  if (authorization.empty()) {
    Principal anonymous;
    anonymous.permissions = anonymous_permissions_;
    return anonymous;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) {
    return Error(errc::kUnauthenticated, "the Authorization header must be 'Bearer <token>'");
  }
  const std::string_view presented = authorization.substr(kBearer.size());
  if (token_.empty() || !ConstantTimeEquals(presented, token_)) {
    return Error(errc::kUnauthenticated, "the bearer token is not valid");
  }
  Principal operator_principal;
  operator_principal.id = "platform-operator";
  operator_principal.authenticated = true;
  operator_principal.kind = "operator";
  operator_principal.all_organisations = true;
  operator_principal.permissions = {kAllPermissions};
  return operator_principal;
}

}  // namespace dzong::http
