#pragma once
// Notifications: what other modules need to tell people. A module writes a
// Notice into the outbox inside the transaction of the event that causes it,
// so the notice exists exactly when the event commits; the sender
// (modules/notify/sender.h, wired in src/main/) delivers it later by email
// and SMS, and the person also finds it in their inbox on the platform.

#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"

namespace dzong::notify {

namespace errc {
/// Enqueue: no template has this id.
inline constexpr char kUnknownTemplate[] = "notify.unknown_template";
/// Enqueue: the notice is incomplete or names a recipient that does not exist.
inline constexpr char kInvalidNotice[] = "notify.invalid_notice";
/// A notice that is not there, or not the caller's to see.
inline constexpr char kNotFound[] = "notify.not_found";
/// Try again: the notice has not failed.
inline constexpr char kNotFailed[] = "notify.not_failed";
}  // namespace errc

struct Notice {
  /// "account" (to = username; a citizen's username is their CID),
  /// "organisation" (to = organisation code: its active officers),
  /// "sms" (to = a mobile number, e.g. +97517123456 or 17123456),
  /// "email" (to = an address).
  std::string to_kind;
  std::string to;
  /// e.g. "application.submitted"; Enqueue refuses an id it has no template for.
  std::string template_id;
  /// The template's placeholders, e.g. {"reference": "DCRC-2026-000001",
  /// "service_en": "…", "service_dz": "…", "path": "/my/applications/…"}.
  /// A placeholder {{x}} takes x_en or x_dz in that language, else x.
  nlohmann::json params = nlohmann::json::object();
  /// "en" or "dz" for sms and email (empty: en); for an account the
  /// account's own language decides (en when it has none).
  std::string language;
  /// The application reference the notice concerns, or empty.
  std::string application;
  /// For an account: when no account has this username (a citizen named on
  /// an application who has not signed up yet), nothing is written and
  /// Enqueue succeeds; they find the application once they sign in.
  bool unless_no_account = false;
};

/// Writes the notice in the caller's transaction, so it exists exactly when
/// the event that caused it commits. Errors: notify.unknown_template,
/// notify.invalid_notice (naming the field and the rule: a placeholder the
/// template needs is missing, the recipient does not exist, a malformed
/// address), or the database's.
Status Enqueue(db::Connection& c, const Notice& notice, const std::string& now_utc);

/// A Bhutanese mobile number as +975 and eight digits: 17 or 77 and six
/// digits, with or without +975, spaces and hyphens allowed between digits.
/// nullopt for anything else.
std::optional<std::string> NormaliseMobile(std::string_view text);

/// The ids of every template, for callers' tests and the documentation.
std::vector<std::string> TemplateIds();

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::notify
