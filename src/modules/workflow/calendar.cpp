// Working days: weekends and Bhutan's public holidays, kept in the database
// and seeded from the embedded list.
#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "base/csv.h"
#include "modules/workflow/workflow.h"

namespace dzong {
std::span<const EmbeddedFile> WorkflowHolidayFiles();
std::span<const EmbeddedFile> WorkflowMigrationFiles();
}  // namespace dzong

namespace dzong::workflow {

std::span<const EmbeddedFile> Migrations() { return WorkflowMigrationFiles(); }

Calendar::Calendar(std::array<bool, 7> weekend, std::set<std::chrono::sys_days> holidays)
    : weekend_(weekend), holidays_(std::move(holidays)) {}

bool Calendar::IsWorkingDay(std::chrono::sys_days day) const {
  return !weekend_[std::chrono::weekday(day).c_encoding()] && !holidays_.contains(day);
}

std::chrono::sys_days Calendar::AddWorkingDays(std::chrono::sys_days from, int n) const {
  std::chrono::sys_days day = from;
  // A calendar of only weekends would never end: give up after ten years.
  for (int counted = 0, guard = 0; counted < n && guard < 3660; ++guard) {
    day += std::chrono::days(1);
    if (IsWorkingDay(day)) ++counted;
  }
  return day;
}

int Calendar::WorkingDaysBetween(std::chrono::sys_days from, std::chrono::sys_days to) const {
  int n = 0;
  for (std::chrono::sys_days day = from + std::chrono::days(1); day <= to; day += std::chrono::days(1)) {
    if (IsWorkingDay(day)) ++n;
  }
  return n;
}

Result<std::array<bool, 7>> ParseWeekend(const std::string& text) {
  static constexpr const char* kNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::array<bool, 7> weekend{};
  std::stringstream words(text);
  for (std::string word; std::getline(words, word, ',');) {
    word.erase(std::remove_if(word.begin(), word.end(), [](unsigned char ch) { return std::isspace(ch); }), word.end());
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (word.empty()) continue;
    const auto* found = std::find(std::begin(kNames), std::end(kNames), word);
    if (found == std::end(kNames)) {
      return Invalid({{"calendar.weekend", "weekday",
                       fmt::format("'{}' is not a day of the week: write days as sun, mon, tue, wed, thu, fri, sat", word)}});
    }
    weekend[static_cast<std::size_t>(found - std::begin(kNames))] = true;
  }
  if (std::all_of(weekend.begin(), weekend.end(), [](bool b) { return b; })) {
    return Invalid({{"calendar.weekend", "working_day", "a week needs at least one working day"}});
  }
  return weekend;
}

Result<Calendar> LoadCalendar(db::Database& db, const std::array<bool, 7>& weekend) {
  std::set<std::chrono::sys_days> holidays;
  DZONG_TRY(db.Read([&](db::Connection& c) -> Status {
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT day FROM public_holidays"));
    for (const auto& row : rows) {
      if (auto day = ParseDate(row.Text(0))) holidays.insert(*day);
    }
    return {};
  }));
  return Calendar(weekend, std::move(holidays));
}

Result<int> SeedHolidays(db::Database& db) {
  int added = 0;
  DZONG_TRY(db.Write([&](db::Connection& c) -> Status {
    for (const EmbeddedFile& file : WorkflowHolidayFiles()) {
      for (const auto& f : CsvRecords(file.content)) {
        if (f.size() != 3 || !ParseDate(f[0])) {
          return Error("workflow.bad_seed", fmt::format("{}: expected date,name_en,name_dz", file.name));
        }
        const db::Value row[] = {f[0], f[1], f[2]};
        DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("INSERT INTO public_holidays (day, name_en, name_dz) "
                                                         "VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING",
                                                         row));
        added += static_cast<int>(n);
      }
    }
    return {};
  }));
  return added;
}

}  // namespace dzong::workflow
