#pragma once
// A small blocking HTTP/1.1 client for the command line (`dzong exchange
// get`): one request per connection, plain HTTP to the server or to the
// TLS-terminating proxy in front of it.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace dzong::http {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Where `base_url` ("http://host:port", no path) points.
struct Origin {
  std::string host;
  std::string port;
};
/// Errors: request.invalid (not an http:// origin).
Result<Origin> ParseOrigin(const std::string& base_url);

/// Sends one request and reads the whole answer. Errors: client.unreachable
/// (cannot connect, or the connection broke), client.bad_response.
Result<ClientResponse> Fetch(const Origin& origin, const std::string& method, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body = {});

}  // namespace dzong::http
