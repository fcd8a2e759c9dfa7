// The rows, events and notices every part of the workflow engine shares.
#include <algorithm>

#include <fmt/format.h>

#include "modules/forms/form.h"
#include "modules/notify/notify.h"
#include "modules/services/services.h"
#include "modules/workflow/cases.h"

namespace dzong::workflow {

using nlohmann::json;

Case FromRow(const db::Row& row) {
  Case k;
  k.id = row.Int(0);
  k.reference = row.Text(1);
  k.service = row.Text(2);
  k.service_version = row.Int(3);
  k.owner = row.Text(4);
  k.applicant = row.Text(5);
  k.channel = row.Text(6);
  k.answers = json::parse(row.Text(7), nullptr, false);
  k.state = row.Text(8);
  k.submitted_at = row.Text(9);
  k.row_version = row.Int(10);
  k.fee_chhertum = row.Int(11);
  k.awaiting_payment = row.Int(12) != 0;
  k.due_on = row.OptText(13);
  k.paused_since = row.OptText(14);
  k.assignee = row.OptText(15);
  k.escalation = row.Int(16);
  k.closed_at = row.OptText(17);
  k.outcome = row.Text(18);
  k.updated_at = row.Text(19);
  return k;
}

Result<std::optional<Case>> FindCase(db::Connection& c, std::string_view where, std::span<const db::Value> params) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query(fmt::format("SELECT {} FROM applications WHERE {}", kCaseColumns, where), params));
  if (rows.empty()) return std::optional<Case>();
  return std::optional<Case>(FromRow(rows[0]));
}

Error NotFound(const std::string& reference) {
  return Error(errc::kNotFound, fmt::format("there is no application {} that you can see", reference));
}

const json* FindState(const json& definition, const std::string& id) {
  for (const auto& s : definition["workflow"]["states"]) {
    if (s.value("id", "") == id) return &s;
  }
  return nullptr;
}

std::string StateTitle(const json& definition, const std::string& id, std::string_view language) {
  const json* s = FindState(definition, id);
  return s ? services::TextIn((*s)["title"], language) : id;
}

bool HasRole(const Who& who, std::string_view role) {
  return std::find(who.roles.begin(), who.roles.end(), role) != who.roles.end();
}

std::string Today(const Clock& clock) { return forms::FormatDay(forms::BhutanToday(clock.Now())); }

/// The CID an answer names, when it is one.
std::string AnswerText(const json& answers, const std::string& field) {
  if (!answers.is_object() || !answers.contains(field) || !answers[field].is_string()) return "";
  return answers[field].get<std::string>();
}

/// Placeholders every application notice shares.
json NoticeParams(const Case& k, const json& definition) {
  return {{"reference", k.reference},
          {"service_en", services::TextIn(definition["title"], "en")},
          {"service_dz", services::TextIn(definition["title"], "dz")},
          {"state_en", StateTitle(definition, k.state, "en")},
          {"state_dz", StateTitle(definition, k.state, "dz")},
          {"path", "/my/applications/" + k.reference}};
}

/// A notice, written in the transaction of the change that causes it. A
/// citizen named by the application who has no account yet is not told here:
/// they find it under "Waiting for you" once they sign in.
Status Notify(db::Connection& c, const std::string& to_kind, const std::string& to, const std::string& template_id,
              const json& params, const std::string& now) {
  if (to.empty()) return {};
  notify::Notice notice{to_kind, to, template_id, params, "", params.value("reference", "")};
  notice.unless_no_account = true;
  return notify::Enqueue(c, notice, now);
}

Status Record(db::Connection& c, const Case& k, const EventInput& e, const audit::Actor& actor,
              const std::string& now, const Clock& clock) {
  const db::Value row[] = {k.id,
                           now,
                           e.kind,
                           e.from_state,
                           e.to_state,
                           e.transition,
                           actor.id,
                           actor.role,
                           actor.organisation.value_or(""),
                           e.comment,
                           e.detail.dump()};
  DZONG_TRY(c.Execute("INSERT INTO application_events (application_id, at, kind, from_state, to_state, transition, "
                      "actor, actor_role, organisation, comment, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      row));
  json detail = e.detail;
  detail["from"] = e.from_state;
  detail["to"] = e.to_state;
  if (!e.transition.empty()) detail["transition"] = e.transition;
  if (!e.comment.empty()) detail["comment"] = e.comment;
  audit::Event event = audit::For(actor, "workflow." + e.kind, "application", k.reference, detail.dump());
  event.subject = k.applicant;
  event.purpose = k.reference;
  DZONG_TRY(audit::Append(c, event, clock));
  return {};
}

/// Bumps the version the actor saw; false when someone changed it first.
Result<bool> Bump(db::Connection& c, const Case& k, std::int64_t seen, const std::string& now) {
  const db::Value row[] = {now, k.id, seen};
  DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE applications SET row_version = row_version + 1, "
                                                   "updated_at = ? WHERE id = ? AND row_version = ?",
                                                   row));
  return n == 1;
}

/// "Someone else acted": names the state the application is in now.
Error Stale(const Case& k, const std::string& state, const json& definition) {
  return Error(errc::kStale,
               fmt::format("Someone else acted on {} while you were looking at it. It is now '{}'. Nothing was "
                           "changed: look at it again before you act.",
                           k.reference, StateTitle(definition, state, "en")));
}

Error Stale(db::Connection& c, const Case& k, const json& definition) {
  const db::Value key[] = {k.id};
  auto rows = c.Query("SELECT state FROM applications WHERE id = ?", key);
  return Stale(k, rows.ok() && !rows->empty() ? (*rows)[0].Text(0) : k.state, definition);
}

Status CheckComment(const std::string& comment, bool required) {
  if (required && comment.empty()) {
    return Invalid({{"comment", "required", "Give a reason: the applicant is told it"}});
  }
  if (comment.size() > 4000) return Invalid({{"comment", "max_length", "A comment can be at most 4000 characters"}});
  return {};
}

std::string Trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace dzong::workflow
