#include "http/dispatcher.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/crypto.h"

namespace dzong::http {
namespace {

bool AcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

/// `text` as a JSON string literal. Client-sent text (method, path) goes
/// through here, so a quote or control byte cannot forge a log field; bytes
/// that are not UTF-8 are replaced.
std::string JsonQuoted(std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (plain) return fmt::format("\"{}\"", text);
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool IsPage(std::string_view path) {
  return !path.starts_with("/api/") && !path.starts_with("/exchange/") && !path.starts_with("/.well-known/") &&
         path != "/healthz" && path != "/readyz" && path != "/metrics" && !path.starts_with("/assets/");
}

void AddSecurityHeaders(Response& response, bool behind_tls) {
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  // No inline script or style anywhere; pages work without JavaScript. A
  // handler's own policy (a stricter one, such as `sandbox` for an uploaded
  // file) stays.
  const bool own_policy = std::any_of(response.headers.begin(), response.headers.end(), [](const Header& h) {
    return h.name == "Content-Security-Policy";
  });
  if (!own_policy) {
    response.SetHeader("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                       "form-action 'self'; frame-ancestors 'none'");
  }
  if (behind_tls) response.SetHeader("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, Metrics& metrics, const Authenticator& authenticator,
                       std::shared_ptr<spdlog::logger> access_log)
    : router_(router),
      metrics_(metrics),
      authenticator_(authenticator),
      access_log_(std::move(access_log)),
      id_prefix_(RandomHex(4)) {}

void Dispatcher::AssignRequestId(Request& request) {
  const std::string_view offered = request.HeaderValue("X-Request-Id");
  if (AcceptableRequestId(offered)) {
    request.request_id = std::string(offered);
  } else {
    request.request_id = fmt::format("{}-{:x}", id_prefix_, next_id_.fetch_add(1, std::memory_order_relaxed));
  }
}

void Dispatcher::ResolveClientAddress(Request& request) const {
  if (trusted_proxies_.empty() ||
      std::find(trusted_proxies_.begin(), trusted_proxies_.end(), request.remote_address) == trusted_proxies_.end()) {
    return;
  }
  // The proxy appends the address it saw last; earlier entries are the
  // client's own word and not trusted.
  std::string_view forwarded = request.HeaderValue("X-Forwarded-For");
  const auto comma = forwarded.rfind(',');
  if (comma != std::string_view::npos) forwarded.remove_prefix(comma + 1);
  while (!forwarded.empty() && forwarded.front() == ' ') forwarded.remove_prefix(1);
  while (!forwarded.empty() && forwarded.back() == ' ') forwarded.remove_suffix(1);
  if (!forwarded.empty() && forwarded.size() <= 45 &&
      forwarded.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos) {
    request.remote_address = std::string(forwarded);
  }
}

Response Dispatcher::Handle(Request& request) {
  const auto started = std::chrono::steady_clock::now();
  metrics_.SetInFlight(1);
  AssignRequestId(request);
  ResolveClientAddress(request);
  std::size_t series = metrics_.unmatched();
  std::string_view label = "unmatched";
  std::string_view audit_event = kNoAuditEvent;
  std::string principal_id = "anonymous";
  Response response;

  std::optional<Error> refused;  // an error the dispatcher itself answered with
  const Route* matched_route = nullptr;
  const MatchResult match = router_.Match(request.method, request.path);
  if (std::holds_alternative<NoRoute>(match)) {
    refused = Error(errc::kNotFound, fmt::format("there is no page or API at {}", request.path));
    response = ErrorResponse(*refused, request.request_id);
  } else if (const auto* wrong = std::get_if<WrongMethod>(&match)) {
    const std::string allow = fmt::format("{}", fmt::join(wrong->allow, ", "));
    response = ErrorResponse(
        Error(errc::kMethodNotAllowed, fmt::format("{} does not accept {}; it accepts {}", request.path,
                                                   request.method, allow)),
        request.request_id);
    response.SetHeader("Allow", allow);
  } else {
    const auto& found = std::get<RouteMatch>(match);
    const Route& route = router_.routes()[found.index];
    matched_route = &route;
    series = found.index;
    label = route.pattern;
    audit_event = route.audit_event;
    Result<Principal> principal = authenticator_.Authenticate(request);
    if (!principal.ok()) {
      response = ErrorResponse(principal.error(), request.request_id);
      response.SetHeader("WWW-Authenticate", "Bearer");
    } else if (route.permission != kPublic && !principal->May(route.permission)) {
      principal_id = principal->id;
      const bool signed_in = principal->authenticated && !principal->mfa_pending;
      refused = signed_in
                    ? Error(errc::kForbidden, fmt::format("you do not have the permission '{}'", route.permission))
                    : Error(errc::kUnauthenticated, fmt::format("sign in to do this (it needs '{}')", route.permission));
      request.principal = std::move(principal).value();
      response = ErrorResponse(*refused, request.request_id);
      principal_id = request.principal.id;
      if (!signed_in) response.SetHeader("WWW-Authenticate", "Bearer");
    } else {
      principal_id = principal->id;
      request.principal = std::move(principal).value();
      request.route = route.method + " " + route.pattern;
      request.route_event = route.audit_event;
      try {
        response = route.handler(request, found.params);
      } catch (const std::exception& e) {
        if (access_log_) {
          access_log_->error(R"({{"type":"error","request_id":"{}","what":{}}})", request.request_id,
                             JsonQuoted(e.what()));
        }
        refused = Error(errc::kInternal, e.what());
        response = ErrorResponse(*refused, request.request_id);
      }
    }
  }
  if (audit_ && matched_route) {
    // Refused by the dispatcher, or by the handler's own rules (401, 403).
    const bool denied = (refused && (refused->code == errc::kUnauthenticated || refused->code == errc::kForbidden)) ||
                        response.status == 401 || response.status == 403;
    const bool already = !denied && request.call_recorded_status != 0 &&
                         request.call_recorded_status == response.status;
    if (!already && (denied || matched_route->audit_event != kNoAuditEvent)) {
      Status recorded = audit_(request, *matched_route, denied, response);
      if (!recorded.ok() && response.commit_with) {
        Response refusal = ErrorResponse(recorded.error(), request.request_id);
        if (refusal.status < 500) {
          // The work that goes with the answer refused it (a replayed
          // exchange request): nothing of it was written, so the caller gets
          // the refusal, recorded as such.
          refused = recorded.error();
          response = std::move(refusal);
          recorded = audit_(request, *matched_route, response.status == 401 || response.status == 403, response);
        }
      }
      if (!recorded.ok()) {
        refused = Error(errc::kDbUnavailable, "the call could not be recorded in the audit log; nothing was done");
        response = ErrorResponse(*refused, request.request_id);
      }
    }
  }
  if (refused && page_errors_ && IsPage(request.path)) {
    // People reach pages with a browser: a page in the layout, or the sign-in page.
    if (refused->code == errc::kUnauthenticated) {
      response = Response{};
      response.status = 303;
      response.content_type.clear();
      response.SetHeader("Location", "/sign-in?return=" + PercentEncode(request.path));
    } else {
      response = page_errors_(request, *refused, response.status);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Finish(request, response, series, label, audit_event, principal_id, seconds);
  metrics_.SetInFlight(-1);
  return response;
}

Response Dispatcher::Reject(Request& request, const Error& error) {
  AssignRequestId(request);
  Response response = ErrorResponse(error, request.request_id);
  response.SetHeader("Connection", "close");
  Finish(request, response, metrics_.unmatched(), "unmatched", kNoAuditEvent, "anonymous", 0);
  return response;
}

void Dispatcher::Finish(const Request& request, Response& response, std::size_t series, std::string_view route_label,
                        std::string_view audit_event, std::string_view principal, double seconds) {
  response.SetHeader("X-Request-Id", request.request_id);
  AddSecurityHeaders(response, behind_tls_);
  if (shutting_down_.load(std::memory_order_relaxed)) response.SetHeader("Connection", "close");
  metrics_.Observe(series, response.status, seconds);
  if (access_log_) {
    // The path is escaped because it is whatever the client sent.
    access_log_->info(
        R"({{"type":"access","request_id":"{}","method":{},"path":{},"route":"{}","status":{},"duration_ms":{:.3f},"bytes":{},"remote":"{}","principal":"{}","audit_event":"{}"}})",
        request.request_id, JsonQuoted(request.method), JsonQuoted(request.path),
        route_label, response.status, seconds * 1000.0, response.body.size(), request.remote_address, principal,
        audit_event);
  }
}

}  // namespace dzong::http
