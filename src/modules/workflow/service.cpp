// The workflow engine: transitions checked by who may take them, parallel
// approvals, requests for information that stop the SLA clock, assignment,
// and the actions a state runs when it is entered. Every change is one
// transaction with its event, its audit record and its notices.
#include <algorithm>

#include <fmt/format.h>

#include "http/message.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "modules/notify/notify.h"
#include "modules/services/services.h"
#include "modules/workflow/cases.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {

using nlohmann::json;

Who Who::Of(const http::Principal& principal) {
  Who who;
  who.username = principal.id;
  who.kind = principal.kind;
  who.organisation = principal.organisation;
  who.roles = principal.roles;
  who.works_applications = principal.May("applications.work");
  return who;
}

const char* SlaName(Sla sla) {
  switch (sla) {
    case Sla::kNotStarted: return "not_started";
    case Sla::kPaused: return "paused";
    case Sla::kOnTime: return "on_time";
    case Sla::kDueSoon: return "due_soon";
    case Sla::kOverdue: return "overdue";
    case Sla::kClosed: return "closed";
  }
  return "on_time";
}

WorkflowService::WorkflowService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue,
                                 Calendar calendar)
    : db_(db), clock_(clock), catalogue_(catalogue), calendar_(std::move(calendar)) {}

Sla WorkflowService::SlaOf(const Case& k) const {
  if (k.closed_at) return Sla::kClosed;
  if (k.paused_since) return Sla::kPaused;
  if (!k.due_on) return Sla::kNotStarted;
  const auto due = ParseDate(*k.due_on);
  if (!due) return Sla::kNotStarted;
  const auto today = forms::BhutanToday(clock_.Now());
  if (today > *due) return Sla::kOverdue;
  if (calendar_.AddWorkingDays(today, 1) >= *due) return Sla::kDueSoon;
  return Sla::kOnTime;
}

Result<json> WorkflowService::DefinitionOf(const Case& k) const {
  DZONG_ASSIGN_OR_RETURN(services::Version v, catalogue_.GetVersion(k.service, k.service_version));
  return v.definition;
}

bool WorkflowService::MaySee(const Case& k, const Who& who) const {
  if (who.kind == "citizen") {
    if (who.username == k.applicant) return true;
    auto definition = DefinitionOf(k);
    if (!definition.ok()) return false;
    for (const auto& t : (*definition)["workflow"]["transitions"]) {
      const std::string field = t["by"].value("citizen_field", "");
      if (!field.empty() && AnswerText(k.answers, field) == who.username) return true;
    }
    return false;
  }
  if (k.submitted_by && *k.submitted_by == who.username) return true;
  return who.kind == "official" && who.organisation == k.owner && who.works_applications;
}

Result<Case> WorkflowService::Get(const std::string& reference, const Who& who) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<Case>>([&](db::Connection& c) {
                           const db::Value key[] = {reference};
                           return FindCase(c, "reference = ?", key);
                         }));
  if (!found || !MaySee(*found, who)) return NotFound(reference);
  return *found;
}

Result<std::vector<CaseEvent>> WorkflowService::History(std::int64_t id) {
  return db_.ReadValue<std::vector<CaseEvent>>([&](db::Connection& c) -> Result<std::vector<CaseEvent>> {
    const db::Value key[] = {id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query("SELECT id, at, kind, from_state, to_state, transition, actor, actor_role, "
                                   "organisation, comment, detail FROM application_events WHERE application_id = ? "
                                   "ORDER BY id",
                                   key));
    std::vector<CaseEvent> out;
    for (const auto& row : rows) {
      CaseEvent e;
      e.id = row.Int(0);
      e.at = row.Text(1);
      e.kind = row.Text(2);
      e.from_state = row.Text(3);
      e.to_state = row.Text(4);
      e.transition = row.Text(5);
      e.actor = row.Text(6);
      e.actor_role = row.Text(7);
      e.organisation = row.Text(8);
      e.comment = row.Text(9);
      e.detail = json::parse(row.Text(10), nullptr, false);
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<std::vector<InformationRequest>> WorkflowService::InformationRequests(std::int64_t id) {
  return db_.ReadValue<std::vector<InformationRequest>>([&](db::Connection& c) -> Result<std::vector<InformationRequest>> {
    const db::Value key[] = {id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT id, asked_by, asked_at, question, answered_at, answer FROM "
                                                  "information_requests WHERE application_id = ? ORDER BY id",
                                                  key));
    std::vector<InformationRequest> out;
    for (const auto& row : rows) {
      out.push_back({row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.OptText(4), row.OptText(5)});
    }
    return out;
  });
}

namespace {

bool MayTake(const json& transition, const Case& k, const Who& who) {
  const json& by = transition["by"];
  if (by.contains("role")) {
    const std::string organisation = by.value("organisation", k.owner);
    return who.kind == "official" && who.organisation == organisation && HasRole(who, by.value("role", ""));
  }
  if (by.contains("citizen_field")) {
    const std::string cid = AnswerText(k.answers, by.value("citizen_field", ""));
    return who.kind == "citizen" && !cid.empty() && cid == who.username;
  }
  if (by.value("applicant", false)) return who.kind == "citizen" && who.username == k.applicant;
  return false;
}

}  // namespace

Result<std::vector<Available>> WorkflowService::AvailableTo(const Case& k, const Who& who) {
  std::vector<Available> out;
  if (k.closed_at) return out;
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  std::vector<std::pair<std::string, std::string>> given;  // transition, approver
  DZONG_TRY(db_.Read([&](db::Connection& c) -> Status {
    const db::Value key[] = {k.id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query("SELECT transition, approver FROM application_approvals WHERE application_id = ?", key));
    for (const auto& row : rows) given.emplace_back(row.Text(0), row.Text(1));
    return {};
  }));
  for (const auto& t : definition["workflow"]["transitions"]) {
    if (t.value("from", "") != k.state || !MayTake(t, k, who)) continue;
    // Officials act once the fee is paid; the applicant may still withdraw.
    if (k.awaiting_payment && t["by"].contains("role")) continue;
    Available a;
    a.id = t.value("id", "");
    a.label = t["label"];
    a.to = t.value("to", "");
    a.comment_required = t.value("comment_required", false);
    a.approvals_needed = t.value("approvals", std::int64_t{1});
    for (const auto& [transition, approver] : given) {
      if (transition != a.id) continue;
      ++a.approvals_given;
      if (approver == who.username) a.given_by_me = true;
    }
    out.push_back(std::move(a));
  }
  return out;
}

Status WorkflowService::Enter(db::Connection& c, Case& k, const json& definition, const std::string& now,
                              const std::string& comment) {
  const json* state = FindState(definition, k.state);
  if (!state) return Error(dzong::errc::kInternal, fmt::format("{} has no state {}", k.service, k.state));
  audit::Actor platform;
  platform.id = "workflow";
  platform.role = "system";
  if (state->value("final", false)) {
    k.closed_at = now;
    k.outcome = state->value("outcome", "");
    const db::Value row[] = {now, k.outcome, k.id};
    DZONG_TRY(c.Execute("UPDATE applications SET closed_at = ?, outcome = ? WHERE id = ?", row));
  }
  json params = NoticeParams(k, definition);
  if (!comment.empty()) params["comment"] = comment;
  for (const auto& action : state->value("on_enter", json::array())) {
    const std::string what = action.value("do", "");
    if (what == "notify") {
      const std::string to = action.value("to", "");
      if (to == "applicant") {
        std::string template_id = "application.updated";
        if (k.outcome == "approved") template_id = "application.approved";
        if (k.outcome == "rejected") template_id = "application.rejected";
        if (k.outcome == "withdrawn") template_id = "application.withdrawn";
        DZONG_TRY(Notify(c, "account", k.applicant, template_id, params, now));
      } else if (to == "officers") {
        DZONG_TRY(Notify(c, "organisation", k.owner, "application.new", params, now));
      } else {
        DZONG_TRY(Notify(c, "account", AnswerText(k.answers, to), "application.action_needed", params, now));
      }
    } else if (what == "issue_certificate" || what == "update_registry") {
      std::string organisation = k.owner;
      std::optional<std::string> registry;
      if (what == "update_registry") {
        registry = action.value("registry", "");
        const db::Value key[] = {*registry};
        DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT custodian FROM registries WHERE code = ?", key));
        if (rows.empty()) return Error(dzong::errc::kInternal, fmt::format("there is no register {}", *registry));
        organisation = rows[0].Text(0);
      }
      // A certificate is issued at once, in this transaction; the task
      // records it as done. A register update waits for the stewards.
      std::optional<std::string> certificate;
      if (what == "issue_certificate" && issuer_) {
        DZONG_ASSIGN_OR_RETURN(certificate, issuer_(c, k.id, now));
      }
      const db::Value row[] = {k.id,
                               what,
                               registry ? db::Value(*registry) : db::Value(nullptr),
                               organisation,
                               certificate ? "done" : "open",
                               now,
                               certificate ? db::Value(platform.id) : db::Value(nullptr),
                               certificate ? db::Value(now) : db::Value(nullptr),
                               certificate ? db::Value(*certificate) : db::Value(nullptr)};
      DZONG_ASSIGN_OR_RETURN(db::Rows made,
                             c.Query("INSERT INTO workflow_tasks (application_id, kind, registry, organisation, status, "
                                     "created_at, done_by, done_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                     "RETURNING id",
                                     row));
      json detail = {{"do", what}, {"task", made.at(0).Int(0)}, {"organisation", organisation}};
      if (registry) detail["registry"] = *registry;
      if (certificate) detail["certificate"] = *certificate;
      DZONG_TRY(Record(c, k, {"action", k.state, k.state, "", "", detail}, platform, now, clock_));
    }
  }
  return {};
}

Status WorkflowService::OnSubmitted(db::Connection& c, const forms::Application& a, const json& definition,
                                    const audit::Actor& actor) {
  Case k;
  k.id = a.id;
  k.reference = a.reference;
  k.service = a.service;
  k.service_version = a.version;
  k.owner = a.owner;
  k.applicant = a.applicant;
  k.channel = a.channel;
  k.answers = a.answers;
  k.state = a.state;
  const std::string now = FormatUtc(clock_.Now());
  k.fee_chhertum = forms::FeeFor(definition, a.answers);
  k.awaiting_payment = k.fee_chhertum > 0;
  if (!k.awaiting_payment) {
    k.due_on = forms::FormatDay(
        calendar_.AddWorkingDays(forms::BhutanToday(clock_.Now()), definition.value("sla_working_days", 0)));
  }
  const db::Value row[] = {k.fee_chhertum, std::int64_t{k.awaiting_payment ? 1 : 0},
                           k.due_on ? db::Value(*k.due_on) : db::Value(nullptr), now, k.id};
  DZONG_TRY(c.Execute("UPDATE applications SET fee_chhertum = ?, awaiting_payment = ?, due_on = ?, updated_at = ? "
                      "WHERE id = ?",
                      row));
  DZONG_TRY(Record(c, k, {"submitted", "", k.state, "", "",
                          {{"channel", k.channel}, {"fee_chhertum", k.fee_chhertum}, {"service_version", k.service_version}}},
                   actor, now, clock_));
  json params = NoticeParams(k, definition);
  params["fee_chhertum"] = k.fee_chhertum;
  // An operator's application tells the citizen who made it for them (forms does).
  if (k.channel != "community_centre") DZONG_TRY(Notify(c, "account", k.applicant, "application.submitted", params, now));
  if (k.awaiting_payment) return {};
  return Enter(c, k, definition, now);
}

Status WorkflowService::OnPaid(db::Connection& c, std::int64_t application_id, const std::string& payment_reference) {
  const db::Value key[] = {application_id};
  DZONG_ASSIGN_OR_RETURN(auto found, FindCase(c, "id = ?", key));
  if (!found) return Error(errc::kNotFound, fmt::format("there is no application {}", application_id));
  Case k = std::move(*found);
  if (!k.awaiting_payment) return {};
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  const std::string now = FormatUtc(clock_.Now());
  k.awaiting_payment = false;
  k.due_on = forms::FormatDay(
      calendar_.AddWorkingDays(forms::BhutanToday(clock_.Now()), definition.value("sla_working_days", 0)));
  const db::Value row[] = {*k.due_on, now, k.id};
  DZONG_TRY(c.Execute("UPDATE applications SET awaiting_payment = 0, due_on = ?, updated_at = ?, "
                      "row_version = row_version + 1 WHERE id = ?",
                      row));
  audit::Actor payments;
  payments.id = "payments";
  payments.role = "system";
  DZONG_TRY(Record(c, k, {"paid", k.state, k.state, "", "", {{"payment", payment_reference}}}, payments, now, clock_));
  return Enter(c, k, definition, now);
}

Result<Case> WorkflowService::Act(const std::string& reference, const Decision& decision, const Who& who,
                                  const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Case k, Get(reference, who));
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  const json* transition = nullptr;
  for (const auto& t : definition["workflow"]["transitions"]) {
    if (t.value("id", "") == decision.transition) transition = &t;
  }
  if (!transition) {
    return Invalid({{"transition", "one_of", fmt::format("{} has no step '{}'", k.service, decision.transition)}});
  }
  if (k.closed_at || transition->value("from", "") != k.state) {
    if (decision.row_version != k.row_version) return Stale(k, k.state, definition);
    return Error(errc::kNotAvailable, fmt::format("'{}' cannot be taken now: {} is '{}'",
                                                  services::TextIn((*transition)["label"], "en"), k.reference,
                                                  StateTitle(definition, k.state, "en")));
  }
  if (!MayTake(*transition, k, who)) {
    return Error(errc::kNotAllowed, fmt::format("you may not take '{}' on {}",
                                                services::TextIn((*transition)["label"], "en"), k.reference));
  }
  if (k.awaiting_payment && (*transition)["by"].contains("role")) {
    return Error(errc::kPaymentDue, fmt::format("{} waits for its fee to be paid", k.reference));
  }
  const std::string comment = Trimmed(decision.comment);
  DZONG_TRY(CheckComment(comment, transition->value("comment_required", false)));
  const std::int64_t needed = transition->value("approvals", std::int64_t{1});
  const std::string to = transition->value("to", "");
  const std::string id = decision.transition;
  return db_.WriteValue<Case>([&](db::Connection& c) -> Result<Case> {
    Case out = k;
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(bool fresh, Bump(c, k, decision.row_version, now));
    if (!fresh) return Stale(c, k, definition);
    ++out.row_version;
    out.updated_at = now;
    if (needed > 1) {
      const db::Value approval[] = {k.id, id, who.username, now};
      DZONG_ASSIGN_OR_RETURN(std::int64_t added,
                             c.Execute("INSERT INTO application_approvals (application_id, transition, approver, at) "
                                       "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                       approval));
      if (added == 0) {
        return Error(errc::kAlreadyApproved, fmt::format("you have already approved {} for {}", id, k.reference));
      }
      const db::Value key[] = {k.id, id};
      DZONG_ASSIGN_OR_RETURN(db::Rows count, c.Query("SELECT COUNT(*) FROM application_approvals WHERE "
                                                     "application_id = ? AND transition = ?",
                                                     key));
      const std::int64_t given = count.at(0).Int(0);
      if (given < needed) {
        DZONG_TRY(Record(c, out, {"approval", k.state, k.state, id, comment, {{"given", given}, {"needed", needed}}},
                         actor, now, clock_));
        return out;
      }
    }
    const db::Value move[] = {to, k.id};
    DZONG_TRY(c.Execute("UPDATE applications SET state = ? WHERE id = ?", move));
    const db::Value key[] = {k.id};
    DZONG_TRY(c.Execute("DELETE FROM application_approvals WHERE application_id = ?", key));
    out.state = to;
    DZONG_TRY(Record(c, out, {"transition", k.state, to, id, comment, json::object()}, actor, now, clock_));
    DZONG_TRY(Enter(c, out, definition, now, comment));
    return out;
  });
}

Result<Case> WorkflowService::RequestInformation(const std::string& reference, std::int64_t row_version,
                                                const std::string& question_text, const Who& who,
                                                const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Case k, Get(reference, who));
  if (who.kind != "official" || who.organisation != k.owner || !who.works_applications) {
    return Error(errc::kNotAllowed, fmt::format("only officers of {} may ask for more information", k.owner));
  }
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  if (k.closed_at) {
    return Error(errc::kNotAvailable, fmt::format("{} is closed: '{}'", k.reference, StateTitle(definition, k.state, "en")));
  }
  if (k.paused_since) return Error(errc::kRequestOpen, fmt::format("{} already waits for the applicant's answer", k.reference));
  const std::string question = Trimmed(question_text);
  if (question.empty()) return Invalid({{"question", "required", "Say what the applicant needs to send or answer"}});
  if (question.size() > 4000) return Invalid({{"question", "max_length", "A question can be at most 4000 characters"}});
  if (row_version != k.row_version) return Stale(k, k.state, definition);
  return db_.WriteValue<Case>([&](db::Connection& c) -> Result<Case> {
    Case out = k;
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(bool fresh, Bump(c, k, row_version, now));
    if (!fresh) return Stale(c, k, definition);
    ++out.row_version;
    out.paused_since = Today(clock_);
    const db::Value pause[] = {*out.paused_since, k.id};
    DZONG_TRY(c.Execute("UPDATE applications SET paused_since = ? WHERE id = ?", pause));
    const db::Value row[] = {k.id, who.username, now, question};
    DZONG_TRY(c.Execute("INSERT INTO information_requests (application_id, asked_by, asked_at, question) "
                        "VALUES (?, ?, ?, ?)",
                        row));
    DZONG_TRY(Record(c, out, {"information_requested", k.state, k.state, "", question, json::object()}, actor, now,
                     clock_));
    json params = NoticeParams(out, definition);
    params["comment"] = question;
    DZONG_TRY(Notify(c, "account", k.applicant, "application.information_requested", params, now));
    return out;
  });
}

Result<Case> WorkflowService::ProvideInformation(const std::string& reference, const std::string& answer_text,
                                                const Who& who, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Case k, Get(reference, who));
  const bool answers_for = who.username == k.applicant || (k.submitted_by && *k.submitted_by == who.username);
  if (!answers_for) return Error(errc::kNotAllowed, "only the applicant answers a request for information");
  if (!k.paused_since) return Error(errc::kNoOpenRequest, fmt::format("{} has no open request for information", k.reference));
  const std::string answer = Trimmed(answer_text);
  if (answer.empty()) return Invalid({{"answer", "required", "Write your answer to the officer's question"}});
  if (answer.size() > 4000) return Invalid({{"answer", "max_length", "An answer can be at most 4000 characters"}});
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  return db_.WriteValue<Case>([&](db::Connection& c) -> Result<Case> {
    Case out = k;
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(bool fresh, Bump(c, k, k.row_version, now));
    if (!fresh) return Stale(c, k, definition);
    ++out.row_version;
    const db::Value open[] = {now, answer, k.id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t answered,
                           c.Execute("UPDATE information_requests SET answered_at = ?, answer = ? "
                                     "WHERE application_id = ? AND answered_at IS NULL",
                                     open));
    if (answered == 0) return Error(errc::kNoOpenRequest, fmt::format("{} has no open request for information", k.reference));
    // The clock stood still from the day it was asked: the due date moves
    // by the working days it waited.
    const auto since = ParseDate(*k.paused_since);
    const auto today = forms::BhutanToday(clock_.Now());
    const int paused = since ? calendar_.WorkingDaysBetween(*since, today) : 0;
    if (k.due_on) {
      if (const auto due = ParseDate(*k.due_on)) out.due_on = forms::FormatDay(calendar_.AddWorkingDays(*due, paused));
    }
    out.paused_since.reset();
    out.escalation = 0;
    const db::Value resume[] = {out.due_on ? db::Value(*out.due_on) : db::Value(nullptr), k.id};
    DZONG_TRY(c.Execute("UPDATE applications SET paused_since = NULL, escalation = 0, due_on = ? WHERE id = ?", resume));
    DZONG_TRY(Record(c, out, {"information_provided", k.state, k.state, "", answer,
                              {{"paused_working_days", paused}, {"due_on", out.due_on.value_or("")}}},
                     actor, now, clock_));
    return out;
  });
}

Result<Case> WorkflowService::Assign(const std::string& reference, std::int64_t row_version, const std::string& assignee,
                                    const Who& who, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Case k, Get(reference, who));
  if (who.kind != "official" || who.organisation != k.owner || !who.works_applications) {
    return Error(errc::kNotAllowed, fmt::format("only officers of {} may assign its applications", k.owner));
  }
  DZONG_ASSIGN_OR_RETURN(json definition, DefinitionOf(k));
  if (row_version != k.row_version) return Stale(k, k.state, definition);
  if (!assignee.empty() && assignee != who.username) {
    DZONG_ASSIGN_OR_RETURN(bool officer, db_.ReadValue<bool>([&](db::Connection& c) -> Result<bool> {
                             const db::Value key[] = {assignee, k.owner};
                             DZONG_ASSIGN_OR_RETURN(
                                 db::Rows rows,
                                 c.Query("SELECT 1 FROM accounts a JOIN role_grants g ON g.account_id = a.id WHERE "
                                         "a.username = ? AND a.organisation = ? AND a.status = 'active' AND "
                                         "g.role = 'officer' AND g.status = 'active'",
                                         key));
                             return !rows.empty();
                           }));
    if (!officer) {
      return Error(errc::kBadAssignee, fmt::format("{} is not an officer of {}", assignee, k.owner),
                   {{"assignee", "officer", fmt::format("{} is not an officer of {}", assignee, k.owner)}});
    }
  }
  return db_.WriteValue<Case>([&](db::Connection& c) -> Result<Case> {
    Case out = k;
    const std::string now = FormatUtc(clock_.Now());
    DZONG_ASSIGN_OR_RETURN(bool fresh, Bump(c, k, row_version, now));
    if (!fresh) return Stale(c, k, definition);
    ++out.row_version;
    if (assignee.empty()) {
      out.assignee.reset();
    } else {
      out.assignee = assignee;
    }
    const db::Value row[] = {assignee.empty() ? db::Value(nullptr) : db::Value(assignee), k.id};
    DZONG_TRY(c.Execute("UPDATE applications SET assignee = ? WHERE id = ?", row));
    const std::string kind = assignee == who.username ? "claimed" : "assigned";
    DZONG_TRY(Record(c, out, {kind, k.state, k.state, "", "", {{"assignee", assignee}}}, actor, now, clock_));
    return out;
  });
}

}  // namespace dzong::workflow
