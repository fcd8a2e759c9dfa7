// The tasks a state opens on entry (a certificate to issue, a register to
// update) and their closing by the custodian's stewards.
#include <algorithm>

#include <fmt/format.h>

#include "modules/forms/form.h"
#include "modules/services/services.h"
#include "modules/workflow/cases.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {

using nlohmann::json;

namespace {

constexpr char kTaskCaseColumns[] =
    "t.id, t.application_id, a.reference, a.service, a.service_version, a.applicant, a.answers, t.kind, t.registry, "
    "t.organisation, t.status, t.created_at, t.done_by, t.done_at, t.note";

Task TaskFromRow(const db::Row& row) {
  Task t;
  t.id = row.Int(0);
  t.application_id = row.Int(1);
  t.reference = row.Text(2);
  t.service = row.Text(3);
  t.service_version = row.Int(4);
  t.applicant = row.Text(5);
  t.answers = json::parse(row.Text(6), nullptr, false);
  t.kind = row.Text(7);
  t.registry = row.OptText(8);
  t.organisation = row.Text(9);
  t.status = row.Text(10);
  t.created_at = row.Text(11);
  t.done_by = row.OptText(12);
  t.done_at = row.OptText(13);
  t.note = row.OptText(14);
  return t;
}

}  // namespace

Result<std::vector<Task>> WorkflowService::OpenTasks(const std::string& organisation, const std::string& kind) {
  return db_.ReadValue<std::vector<Task>>([&](db::Connection& c) -> Result<std::vector<Task>> {
    const db::Value key[] = {organisation, kind};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(fmt::format("SELECT {} FROM workflow_tasks t JOIN applications a ON a.id = "
                                               "t.application_id WHERE t.organisation = ? AND t.kind = ? AND "
                                               "t.status = 'open' ORDER BY t.id LIMIT 500",
                                               kTaskCaseColumns),
                                   key));
    std::vector<Task> out;
    for (const auto& row : rows) out.push_back(TaskFromRow(row));
    return out;
  });
}

Result<Task> WorkflowService::GetTask(std::int64_t id, const std::string& organisation) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<Task>>([&](db::Connection& c) -> Result<std::optional<Task>> {
    const db::Value key[] = {id, organisation};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(fmt::format("SELECT {} FROM workflow_tasks t JOIN applications a ON a.id = "
                                               "t.application_id WHERE t.id = ? AND t.organisation = ?",
                                               kTaskCaseColumns),
                                   key));
    if (rows.empty()) return std::optional<Task>();
    return std::optional<Task>(TaskFromRow(rows[0]));
  }));
  if (!found) return Error(errc::kTaskNotFound, fmt::format("your organisation has no task {}", id));
  return *found;
}

Result<Task> WorkflowService::CloseTask(std::int64_t id, const std::string& outcome, const std::string& note_text,
                                        const Who& who, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Task task, GetTask(id, who.organisation.value_or("")));
  const bool steward = who.kind == "official" && HasRole(who, "registry_steward");
  if (task.kind != "update_registry" || !steward) {
    return Error(errc::kNotAllowed, "only the custodian's registry stewards close a register update");
  }
  if (task.status != "open") return Error(errc::kTaskClosed, fmt::format("task {} is already {}", id, task.status));
  const std::string note = Trimmed(note_text);
  std::vector<FieldError> problems;
  if (outcome != "done" && outcome != "declined") {
    problems.push_back({"outcome", "required", "Say whether the register was updated or the update is declined"});
  }
  if (outcome == "declined" && note.empty()) {
    problems.push_back({"note", "required", "Say why the update is declined: the officers who decided are told"});
  }
  if (note.size() > 2000) problems.push_back({"note", "max_length", "A note can be at most 2000 characters"});
  if (!problems.empty()) return Invalid(std::move(problems));
  return db_.WriteValue<Task>([&](db::Connection& c) -> Result<Task> {
    const std::string now = FormatUtc(clock_.Now());
    const db::Value row[] = {outcome, who.username, now, note, id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE workflow_tasks SET status = ?, done_by = ?, done_at = ?, "
                                                     "note = ? WHERE id = ? AND status = 'open'",
                                                     row));
    if (n == 0) return Error(errc::kTaskClosed, fmt::format("task {} was closed meanwhile", id));
    const db::Value key[] = {task.application_id};
    DZONG_ASSIGN_OR_RETURN(auto kase, FindCase(c, "id = ?", key));
    if (!kase) return Error(errc::kNotFound, "the task's application is gone");
    DZONG_TRY(Record(c, *kase,
                     {"action", kase->state, kase->state, "", note,
                      {{"do", task.kind}, {"task", id}, {"registry", task.registry.value_or("")}, {"outcome", outcome}}},
                     actor, now, clock_));
    task.status = outcome;
    task.done_by = who.username;
    task.done_at = now;
    task.note = note;
    return task;
  });
}

}  // namespace dzong::workflow
