#pragma once
// Plain request and response types. Only server.cpp knows Boost.Beast; the
// router, handlers and tests speak these.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace dzong::db {
class Connection;
}

namespace dzong::http {

struct Header {
  std::string name;
  std::string value;
};

/// Holds every permission: the platform operator's bootstrap credential.
inline constexpr char kAllPermissions[] = "*";

/// Who is asking, as the dispatcher established it before any handler runs.
struct Principal {
  std::string id = "anonymous";  ///< the username, "anonymous" or "platform-operator"
  bool authenticated = false;
  std::set<std::string, std::less<>> permissions;
  std::vector<std::string> roles;           ///< role codes of the active grants
  std::int64_t account_id = 0;              ///< 0 when no account stands behind it
  std::string kind;                         ///< citizen, official, system, operator
  std::string display_name;
  std::optional<std::string> organisation;  ///< the organisation an official or system belongs to
  bool all_organisations = false;           ///< may act on any organisation's people
  bool mfa_pending = false;                 ///< signed in with a password, second factor still owed
  std::string session_hash;                 ///< the browser session, when there is one
  std::string csrf_token;                   ///< the session's form token
  std::optional<std::string> language;      ///< the account's chosen language

  bool May(std::string_view permission) const {
    return permissions.contains(permission) || permissions.contains(kAllPermissions);
  }
};

struct Request {
  std::string method;  ///< upper case, as sent: "GET", "POST", …
  std::string target;  ///< path and query, as sent
  std::string path;    ///< path as sent, without the query; the router decodes parameters
  std::string query;   ///< raw query string, without '?'
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;
  std::string request_id;  ///< set by the dispatcher before any handler runs
  Principal principal;     ///< who is asking; set by the dispatcher after authentication
  std::string route;        ///< "POST /api/v1/organisations": the matched route, set by the dispatcher
  std::string route_event;  ///< the audit event the route declares
  /// The status that a handler's own transaction recorded this call with
  /// (audit::AppendWithCall); 0 when none did. The dispatcher then need not
  /// record the call again.
  mutable int call_recorded_status = 0;

  /// The first header with this name (case-insensitive), or empty.
  std::string_view HeaderValue(std::string_view name) const;
  /// A query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
  /// A cookie sent with the request; empty when absent.
  std::string Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;
  /// The citizens (CIDs) whose personal data this answer showed: the
  /// route's audit record names each one, so they see the access.
  std::vector<std::string> audit_subjects;
  /// Work that commits in the same transaction as the route's audit record,
  /// before the answer goes out (the exchange's nonce and message log). When
  /// it refuses the call with an error it must have written nothing; the
  /// caller then gets that error instead, recorded as a refusal.
  std::function<Status(db::Connection&)> commit_with;

  void SetHeader(std::string name, std::string value);
};

/// Escapes everything but unreserved characters (RFC 3986), for a path
/// segment or a query value.
std::string PercentEncode(std::string_view text);

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns
/// nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace dzong::http
