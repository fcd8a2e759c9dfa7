#include "http/router.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace dzong::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path[0] != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool IsParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Status Router::Add(Route route) {
  const std::string where = fmt::format("{} {}", route.method, route.pattern);
  if (route.permission.empty()) {
    return Error("router.no_permission", fmt::format("route {} declares no permission; every route must", where));
  }
  if (route.audit_event.empty()) {
    return Error("router.no_audit_event",
                 fmt::format("route {} declares no audit event; use \"{}\" if it records nothing", where,
                             kNoAuditEvent));
  }
  if (!route.handler) return Error("router.no_handler", fmt::format("route {} has no handler", where));
  if (route.method.empty() || !std::all_of(route.method.begin(), route.method.end(), [](char c) {
        return c >= 'A' && c <= 'Z';
      })) {
    return Error("router.bad_method", fmt::format("route {} has a bad method", where));
  }
  if (route.pattern.empty() || route.pattern[0] != '/') {
    return Error("router.bad_pattern", fmt::format("route {}: pattern must start with '/'", where));
  }
  Compiled compiled;
  for (std::string_view segment : Split(route.pattern)) {
    if (segment.find_first_of("{}") != std::string_view::npos && !IsParameter(segment)) {
      return Error("router.bad_pattern", fmt::format("route {}: malformed parameter '{}'", where, segment));
    }
    compiled.segments.emplace_back(segment);
  }
  for (const Route& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      return Error("router.duplicate", fmt::format("route {} is declared twice", where));
    }
  }
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(compiled));
  return {};
}

bool Router::MatchSegments(const Compiled& compiled, std::string_view path, PathParams* params) {
  const auto parts = Split(path);
  if (parts.size() != compiled.segments.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& segment = compiled.segments[i];
    if (IsParameter(segment)) {
      if (parts[i].empty()) return false;
      auto decoded = PercentDecode(parts[i], false);
      if (!decoded) return false;
      if (params) params->emplace(segment.substr(1, segment.size() - 2), std::move(*decoded));
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return true;
}

MatchResult Router::Match(std::string_view method, std::string_view path) const {
  // Literal segments win over parameters: "/x/new" before "/x/{id}".
  std::vector<std::string> allow;
  std::optional<std::size_t> best;
  std::size_t best_literals = 0;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!MatchSegments(compiled_[i], path, nullptr)) continue;
    if (routes_[i].method != method) {
      if (std::find(allow.begin(), allow.end(), routes_[i].method) == allow.end()) allow.push_back(routes_[i].method);
      continue;
    }
    const auto literals = static_cast<std::size_t>(std::count_if(
        compiled_[i].segments.begin(), compiled_[i].segments.end(), [](const std::string& s) { return !IsParameter(s); }));
    if (!best || literals > best_literals) {
      best = i;
      best_literals = literals;
    }
  }
  if (best) {
    RouteMatch match{*best, {}};
    MatchSegments(compiled_[*best], path, &match.params);
    return match;
  }
  if (!allow.empty()) {
    std::sort(allow.begin(), allow.end());
    return WrongMethod{std::move(allow)};
  }
  return NoRoute{};
}

}  // namespace dzong::http
