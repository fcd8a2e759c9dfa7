// The lists of applications: an organisation's queue, filtered and paged;
// a citizen's own; those waiting for a citizen named in them.
#include <algorithm>

#include <fmt/format.h>

#include "modules/forms/form.h"
#include "modules/services/services.h"
#include "modules/workflow/cases.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {

using nlohmann::json;

Result<QueuePage> WorkflowService::Queue(const std::string& organisation, const QueueFilter& filter, const Who& who) {
  if (who.kind != "official" || who.organisation != organisation || !who.works_applications) {
    return Error(errc::kNotAllowed, fmt::format("only officers of {} see its applications", organisation));
  }
  std::string where = filter.closed ? "owner = ? AND closed_at IS NOT NULL" : "owner = ? AND closed_at IS NULL";
  std::vector<db::Value> params{organisation};
  if (!filter.state.empty()) {
    where += " AND state = ?";
    params.emplace_back(filter.state);
  }
  if (!filter.service.empty()) {
    where += " AND service = ?";
    params.emplace_back(filter.service);
  }
  if (filter.assignee == "none") {
    where += " AND assignee IS NULL";
  } else if (!filter.assignee.empty()) {
    where += " AND assignee = ?";
    params.emplace_back(filter.assignee == "me" ? who.username : filter.assignee);
  }
  const auto today_day = forms::BhutanToday(clock_.Now());
  const std::string today = forms::FormatDay(today_day);
  const std::string soon = forms::FormatDay(calendar_.AddWorkingDays(today_day, 1));
  if (filter.sla == "paused") {
    where += " AND paused_since IS NOT NULL";
  } else if (filter.sla == "not_started") {
    where += " AND due_on IS NULL";
  } else if (filter.sla == "overdue") {
    where += " AND paused_since IS NULL AND due_on < ?";
    params.emplace_back(today);
  } else if (filter.sla == "due_soon") {
    where += " AND paused_since IS NULL AND due_on >= ? AND due_on <= ?";
    params.emplace_back(today);
    params.emplace_back(soon);
  } else if (filter.sla == "on_time") {
    where += " AND paused_since IS NULL AND due_on > ?";
    params.emplace_back(soon);
  } else if (!filter.sla.empty()) {
    return Invalid({{"sla", "one_of", "SLA is one of on_time, due_soon, overdue, paused, not_started"}});
  }
  const std::int64_t size = std::clamp<std::int64_t>(filter.page_size, 1, 200);
  const std::int64_t page = std::max<std::int64_t>(filter.page, 1);
  return db_.ReadValue<QueuePage>([&](db::Connection& c) -> Result<QueuePage> {
    QueuePage out;
    DZONG_ASSIGN_OR_RETURN(db::Rows count, c.Query("SELECT COUNT(*) FROM applications WHERE " + where, params));
    out.total = count.at(0).Int(0);
    out.page = page;
    out.pages = std::max<std::int64_t>(1, (out.total + size - 1) / size);
    std::vector<db::Value> paged = params;
    paged.emplace_back(size);
    paged.emplace_back((page - 1) * size);
    DZONG_ASSIGN_OR_RETURN(
        db::Rows rows,
        c.Query(fmt::format("SELECT {} FROM applications WHERE {} ORDER BY CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, "
                            "due_on, id LIMIT ? OFFSET ?",
                            kCaseColumns, where),
                paged));
    for (const auto& row : rows) out.cases.push_back(FromRow(row));
    return out;
  });
}

Result<std::vector<Case>> WorkflowService::OfCitizen(const std::string& cid) {
  return db_.ReadValue<std::vector<Case>>([&](db::Connection& c) -> Result<std::vector<Case>> {
    const db::Value key[] = {cid};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM applications WHERE applicant = ? "
                                                              "ORDER BY id DESC LIMIT 200",
                                                              kCaseColumns),
                                                  key));
    std::vector<Case> out;
    for (const auto& row : rows) out.push_back(FromRow(row));
    return out;
  });
}

Result<std::vector<Case>> WorkflowService::WaitingFor(const std::string& cid) {
  // A CID is eleven digits: the answers that name it contain it as text.
  if (cid.size() != 11 || !std::all_of(cid.begin(), cid.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::vector<Case>();
  }
  DZONG_ASSIGN_OR_RETURN(std::vector<Case> named, db_.ReadValue<std::vector<Case>>([&](db::Connection& c) -> Result<std::vector<Case>> {
    const db::Value key[] = {"%\"" + cid + "\"%", cid};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM applications WHERE closed_at IS NULL AND "
                                                              "answers LIKE ? AND applicant <> ? ORDER BY id LIMIT 200",
                                                              kCaseColumns),
                                                  key));
    std::vector<Case> out;
    for (const auto& row : rows) out.push_back(FromRow(row));
    return out;
  }));
  Who citizen;
  citizen.username = cid;
  citizen.kind = "citizen";
  std::vector<Case> out;
  for (Case& k : named) {
    auto available = AvailableTo(k, citizen);
    if (available.ok() && !available->empty()) out.push_back(std::move(k));
  }
  return out;
}

}  // namespace dzong::workflow
