#pragma once
// Who is asking, and what they may do. The dispatcher asks an Authenticator
// for the Principal of every request and checks the route's permission
// against it before any handler runs.

#include <set>
#include <string>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  /// The principal a request speaks for. A request without credentials is
  /// anonymous; one with credentials that do not check out is an error
  /// (auth.unauthenticated), never silently anonymous.
  virtual Result<Principal> Authenticate(const Request& request) const = 0;
};

}  // namespace dzong::http
