#pragma once
// The route table. Every entry declares the permission it needs and the audit
// event it emits; the router refuses an entry that leaves either out, so a
// route cannot be open by accident (deny by default).

#include <functional>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {

/// Granted to everyone, signed in or not. Must be named explicitly.
inline constexpr char kPublic[] = "public";
/// The audit event of a route that reads or changes no recorded data.
inline constexpr char kNoAuditEvent[] = "none";

/// Path parameters by name: "/api/v1/organisations/{code}" → {"code": "DCRC"}.
using PathParams = std::map<std::string, std::string, std::less<>>;

using Handler = std::function<Response(const Request&, const PathParams&)>;

struct Route {
  std::string method;       ///< "GET", "POST", "PATCH", …
  std::string pattern;      ///< "/api/v1/organisations/{code}"
  std::string permission;   ///< e.g. "organisations.read", or kPublic
  std::string audit_event;  ///< e.g. "organisations.update", or kNoAuditEvent
  Handler handler;
  std::string summary;      ///< one line for the operator's route listing
};

struct RouteMatch {
  std::size_t index;  ///< position in routes()
  PathParams params;
};
struct NoRoute {};
struct WrongMethod {
  std::vector<std::string> allow;
};
using MatchResult = std::variant<RouteMatch, NoRoute, WrongMethod>;

class Router {
 public:
  /// Adds a route. Errors (router.*) for a missing permission, audit event or
  /// handler, a malformed pattern, or a duplicate method and pattern.
  Status Add(Route route);
  MatchResult Match(std::string_view method, std::string_view path) const;
  std::span<const Route> routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  ///< literal, or "{name}" for a parameter
  };
  static bool MatchSegments(const Compiled& compiled, std::string_view path, PathParams* params);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

}  // namespace dzong::http
