#pragma once
// The path of every request after parsing: request id, route match (404,
// 405 with Allow), authentication, the route's permission, the handler, the
// error body, security headers, metrics and the JSON access log line.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/auth.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "http/router.h"

namespace spdlog {
class logger;
}

namespace dzong::http {

class Dispatcher {
 public:
  Dispatcher(const Router& router, Metrics& metrics, const Authenticator& authenticator,
             std::shared_ptr<spdlog::logger> access_log);

  /// Answers one parsed request. Never throws.
  Response Handle(Request& request);
  /// Answers a request the server could not parse (too large, malformed).
  Response Reject(Request& request, const Error& error);

  /// Errors on pages (paths outside /api/) render with `render` instead of
  /// the JSON body; a page that needs sign-in redirects to /sign-in.
  void SetPageErrors(std::function<Response(const Request&, const Error&, int)> render, bool behind_tls) {
    page_errors_ = std::move(render);
    behind_tls_ = behind_tls;
  }

  /// Requests from these addresses (reverse proxies) are taken to come from
  /// the last address their X-Forwarded-For names.
  void TrustProxies(std::vector<std::string> addresses) { trusted_proxies_ = std::move(addresses); }

  /// Records a call: every call of a route that declares an audit event,
  /// and every refused call of any route. The answer waits for the record;
  /// when it cannot be made, the answer is 503 instead.
  using AuditSink = std::function<Status(const Request&, const Route&, bool denied, const Response&)>;
  void SetAudit(AuditSink sink) { audit_ = std::move(sink); }

  /// Once set, answers carry `Connection: close` and new work is refused.
  void BeginShutdown() { shutting_down_.store(true); }

 private:
  void AssignRequestId(Request& request);
  void ResolveClientAddress(Request& request) const;
  void Finish(const Request& request, Response& response, std::size_t series, std::string_view route_label,
              std::string_view audit_event, std::string_view principal, double seconds);

  const Router& router_;
  Metrics& metrics_;
  const Authenticator& authenticator_;
  std::shared_ptr<spdlog::logger> access_log_;
  const std::string id_prefix_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> shutting_down_{false};
  std::function<Response(const Request&, const Error&, int)> page_errors_;
  AuditSink audit_;
  std::vector<std::string> trusted_proxies_;
  bool behind_tls_ = false;
};

}  // namespace dzong::http
