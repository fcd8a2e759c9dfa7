#pragma once

#include <string>

#include "http/auth.h"
#include "modules/identity/identity.h"

namespace dzong::identity {

/// The platform's authenticator: signed requests of agency systems (RFC
/// 9421), API tokens, browser sessions, the
/// operator's configured token, else anonymous (public pages and the
/// organisation directory).
class Authenticator final : public http::Authenticator {
 public:
  Authenticator(IdentityService& identity, const Clock& clock, std::string operator_token);
  Result<http::Principal> Authenticate(const http::Request& request) const override;

 private:
  http::Principal Anonymous() const;
  IdentityService& identity_;
  const Clock& clock_;
  std::string operator_token_;
};

}  // namespace dzong::identity
