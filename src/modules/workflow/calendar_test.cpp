#include <gtest/gtest.h>

#include "modules/workflow/workflow.h"

namespace dzong::workflow {
namespace {

using std::chrono::sys_days;

sys_days Day(const char* text) { return *ParseDate(text); }

TEST(CalendarTest, WorkingDaysSkipWeekendsAndPublicHolidays) {
  // Losar 2026 falls on Wednesday and Thursday, 18 and 19 February.
  const Calendar calendar(*ParseWeekend("sat,sun"), {Day("2026-02-18"), Day("2026-02-19")});
  EXPECT_FALSE(calendar.IsWorkingDay(Day("2026-02-21")));  // Saturday
  EXPECT_FALSE(calendar.IsWorkingDay(Day("2026-02-18")));
  EXPECT_TRUE(calendar.IsWorkingDay(Day("2026-02-17")));
  // Three working days from Tuesday the 17th: Friday 20th, Monday 23rd, Tuesday 24th.
  EXPECT_EQ(calendar.AddWorkingDays(Day("2026-02-17"), 3), Day("2026-02-24"));
  EXPECT_EQ(calendar.AddWorkingDays(Day("2026-02-17"), 0), Day("2026-02-17"));
  EXPECT_EQ(calendar.WorkingDaysBetween(Day("2026-02-17"), Day("2026-02-24")), 3);
  EXPECT_EQ(calendar.WorkingDaysBetween(Day("2026-02-24"), Day("2026-02-17")), 0);
}

TEST(CalendarTest, TheWeekendIsConfiguredByDayNames) {
  const Calendar friday_off(*ParseWeekend(" Fri , sun"), {});
  EXPECT_FALSE(friday_off.IsWorkingDay(Day("2026-11-27")));  // Friday
  EXPECT_TRUE(friday_off.IsWorkingDay(Day("2026-11-28")));   // Saturday
  auto bad = ParseWeekend("sat,funday");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.at(0).field, "calendar.weekend");
  EXPECT_NE(bad.error().fields.at(0).message.find("funday"), std::string::npos);
  EXPECT_FALSE(ParseWeekend("sun,mon,tue,wed,thu,fri,sat").ok());
}

}  // namespace
}  // namespace dzong::workflow
