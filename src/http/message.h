#pragma once
// Plain request and response types. Only server.cpp knows Boost.Beast; the
// router, handlers and tests speak these.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dzong::http {

struct Header {
  std::string name;
  std::string value;
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
  std::string principal;   ///< who is asking; set by the dispatcher after authentication

  /// The first header with this name (case-insensitive), or empty.
  std::string_view HeaderValue(std::string_view name) const;
  /// A query parameter, percent-decoded; nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;

  void SetHeader(std::string name, std::string value);
};

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns
/// nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace dzong::http
