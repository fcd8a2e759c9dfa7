#pragma once
// The workflow engine's shared parts (internal to the module): an
// application's row, its events with their audit records, its notices, and
// the checks every change makes. service.cpp takes transitions, queue.cpp
// lists, escalation.cpp watches due dates, tasks.cpp keeps the tasks that
// states open.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "db/database.h"
#include "modules/audit/audit.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {

/// The applications columns FromRow reads, in its order.
inline constexpr char kCaseColumns[] =
    "id, reference, service, service_version, owner, applicant, channel, answers, state, submitted_at, row_version, "
    "fee_chhertum, awaiting_payment, due_on, paused_since, assignee, escalation, closed_at, outcome, updated_at";

Case FromRow(const db::Row& row);
/// The application the condition finds, if any.
Result<std::optional<Case>> FindCase(db::Connection& c, std::string_view where, std::span<const db::Value> params);
Error NotFound(const std::string& reference);
const nlohmann::json* FindState(const nlohmann::json& definition, const std::string& id);
std::string StateTitle(const nlohmann::json& definition, const std::string& id, std::string_view language);
bool HasRole(const Who& who, std::string_view role);
/// Today in Bhutan, as YYYY-MM-DD.
std::string Today(const Clock& clock);
/// The CID an answer names, when it is one.
std::string AnswerText(const nlohmann::json& answers, const std::string& field);
/// Placeholders every application notice shares.
nlohmann::json NoticeParams(const Case& k, const nlohmann::json& definition);
/// A notice, written in the transaction of the change that causes it. A
/// citizen named by the application who has no account yet is not told here:
/// they find it under "Waiting for you" once they sign in.
Status Notify(db::Connection& c, const std::string& to_kind, const std::string& to, const std::string& template_id,
              const nlohmann::json& params, const std::string& now);

/// One change to an application, as its event records it.
struct EventInput {
  std::string kind;
  std::string from_state;
  std::string to_state;
  std::string transition;
  std::string comment;
  nlohmann::json detail = nlohmann::json::object();
};
/// The event row and its audit record (the applicant as subject, the
/// reference as purpose), in the change's transaction.
Status Record(db::Connection& c, const Case& k, const EventInput& e, const audit::Actor& actor,
              const std::string& now, const Clock& clock);
/// Bumps the version the actor saw; false when someone changed it first.
Result<bool> Bump(db::Connection& c, const Case& k, std::int64_t seen, const std::string& now);
/// "Someone else acted": names the state the application is in now.
Error Stale(const Case& k, const std::string& state, const nlohmann::json& definition);
Error Stale(db::Connection& c, const Case& k, const nlohmann::json& definition);
/// A decision's comment: required when the transition says so, 4000 characters at most.
Status CheckComment(const std::string& comment, bool required);
std::string Trimmed(std::string text);

}  // namespace dzong::workflow
