// Escalation: an application with a working day left is marked due soon,
// one past its due date overdue, each once, and the server's Escalator
// looks every few minutes.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "modules/forms/form.h"
#include "modules/services/services.h"
#include "modules/workflow/cases.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {

using nlohmann::json;

Result<int> WorkflowService::Escalate(const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(std::vector<Case> open, db_.ReadValue<std::vector<Case>>([&](db::Connection& c) -> Result<std::vector<Case>> {
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM applications WHERE closed_at IS NULL AND "
                                                              "paused_since IS NULL AND due_on IS NOT NULL AND "
                                                              "escalation < 2",
                                                              kCaseColumns)));
    std::vector<Case> out;
    for (const auto& row : rows) out.push_back(FromRow(row));
    return out;
  }));
  int changed = 0;
  const auto today = forms::BhutanToday(clock_.Now());
  for (const Case& k : open) {
    const Sla sla = SlaOf(k);
    const std::int64_t level = sla == Sla::kOverdue ? 2 : sla == Sla::kDueSoon ? 1 : 0;
    if (level <= k.escalation) continue;
    auto definition = DefinitionOf(k);
    if (!definition.ok()) return std::move(definition).error();
    DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
      const std::string now = FormatUtc(clock_.Now());
      const db::Value row[] = {level, now, k.id, k.row_version};
      DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE applications SET escalation = ?, updated_at = ?, "
                                                       "row_version = row_version + 1 WHERE id = ? AND row_version = ?",
                                                       row));
      if (n == 0) return {};  // it changed meanwhile: the next sweep looks again
      const auto due = ParseDate(*k.due_on);
      const int late = due ? calendar_.WorkingDaysBetween(*due, today) : 0;
      json detail = {{"due_on", *k.due_on}, {"working_days_overdue", late}};
      if (k.assignee) detail["assignee"] = *k.assignee;
      DZONG_TRY(Record(c, k, {level == 2 ? "overdue" : "due_soon", k.state, k.state, "", "", detail}, actor, now, clock_));
      json params = NoticeParams(k, *definition);
      params["due_on"] = *k.due_on;
      params["days_overdue"] = late;
      if (level == 2) {
        DZONG_TRY(Notify(c, "organisation", k.owner, "application.sla_breach", params, now));
      } else if (k.assignee) {
        DZONG_TRY(Notify(c, "account", *k.assignee, "application.sla_due_soon", params, now));
      }
      ++changed;
      return {};
    }));
  }
  return changed;
}

struct Escalator::State {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

Escalator::Escalator(WorkflowService& workflow, std::chrono::seconds interval,
                     std::function<void(const Error&)> on_error)
    : state_(std::make_unique<State>()) {
  state_->thread = std::thread([this, &workflow, interval, on_error = std::move(on_error)] {
    audit::Actor sweeper;
    sweeper.id = "workflow";
    sweeper.role = "system";
    std::unique_lock lock(state_->mutex);
    while (!state_->stopping) {
      lock.unlock();
      Result<int> changed = workflow.Escalate(sweeper);
      if (!changed.ok() && on_error) on_error(changed.error());
      lock.lock();
      state_->wake.wait_for(lock, interval, [this] { return state_->stopping; });
    }
  });
}

Escalator::~Escalator() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace dzong::workflow
