#pragma once
// The workflow engine: takes a submitted application through the states and
// transitions of the service version it was made on. Each transition checks
// who may take it (officials by role and organisation, a named second
// citizen, the applicant), records who, when and why as an event, and runs
// the actions of the state it enters (notify, issue a certificate, ask the
// custodian's stewards to update a register) in the same transaction.
// Officers work their organisation's queue against the SLA, counted in
// working days of a calendar of weekends and public holidays; a request for
// information pauses the clock until the applicant answers.
//
// Every change bumps the application's version: an officer acting on a
// version someone else has already changed is told so and changes nothing.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/embedded.h"
#include "base/result.h"
#include "db/database.h"
#include "modules/audit/audit.h"

namespace dzong::http {
class Router;
struct Principal;
}  // namespace dzong::http
namespace dzong::web {
class Web;
}
namespace dzong::services {
class ServiceCatalogue;
struct Version;
}  // namespace dzong::services
namespace dzong::forms {
class FormService;
struct Application;
}  // namespace dzong::forms
namespace dzong::registries {
class RegistryService;
}

namespace dzong::workflow {

namespace errc {
inline constexpr char kNotFound[] = "workflow.application_not_found";        // 404
inline constexpr char kNotAllowed[] = "workflow.not_allowed";                // 403
inline constexpr char kStale[] = "workflow.someone_else_acted";              // 409
inline constexpr char kNotAvailable[] = "workflow.transition_not_available"; // 409
inline constexpr char kPaymentDue[] = "workflow.payment_due";                // 409
inline constexpr char kNoOpenRequest[] = "workflow.no_open_request";         // 409
inline constexpr char kRequestOpen[] = "workflow.request_open";              // 409
inline constexpr char kAlreadyApproved[] = "workflow.already_approved";      // 409
inline constexpr char kBadAssignee[] = "workflow.bad_assignee";              // 422
inline constexpr char kTaskNotFound[] = "workflow.task_not_found";           // 404
inline constexpr char kTaskClosed[] = "workflow.task_closed";                // 409
}  // namespace errc

/// Working days: every day but the weekend days and the public holidays.
class Calendar {
 public:
  Calendar() = default;
  /// `weekend[d]`: day d (0 Sunday … 6 Saturday) is no working day.
  Calendar(std::array<bool, 7> weekend, std::set<std::chrono::sys_days> holidays);
  bool IsWorkingDay(std::chrono::sys_days day) const;
  /// The working day `n` working days after `from` (from itself not counted).
  std::chrono::sys_days AddWorkingDays(std::chrono::sys_days from, int n) const;
  /// Working days after `from` up to and including `to` (0 when to <= from).
  int WorkingDaysBetween(std::chrono::sys_days from, std::chrono::sys_days to) const;
  std::size_t holidays() const { return holidays_.size(); }

 private:
  std::array<bool, 7> weekend_{true, false, false, false, false, false, true};
  std::set<std::chrono::sys_days> holidays_;
};

/// "sat,sun" → the weekend days. Errors: request.invalid.
Result<std::array<bool, 7>> ParseWeekend(const std::string& text);

/// How an application stands against its SLA today.
enum class Sla { kNotStarted, kPaused, kOnTime, kDueSoon, kOverdue, kClosed };
const char* SlaName(Sla sla);  ///< not_started, paused, on_time, due_soon, overdue, closed

/// An application as the workflow keeps it.
struct Case {
  std::int64_t id = 0;
  std::string reference;
  std::string service;
  std::int64_t service_version = 0;
  std::string owner;
  std::string applicant;
  std::string channel;
  std::optional<std::string> submitted_by;  ///< an operator who applied for the citizen
  nlohmann::json answers;
  std::string state;
  std::string submitted_at;
  std::int64_t row_version = 1;
  std::int64_t fee_chhertum = 0;
  bool awaiting_payment = false;
  std::optional<std::string> due_on;        ///< YYYY-MM-DD; none until the clock starts
  std::optional<std::string> paused_since;  ///< YYYY-MM-DD while an information request is open
  std::optional<std::string> assignee;
  std::int64_t escalation = 0;              ///< 0, 1 due soon (officers told), 2 overdue (told)
  std::optional<std::string> closed_at;     ///< when it entered a final state
  std::string outcome;                      ///< approved, rejected, withdrawn; empty while open
  std::string updated_at;
};

/// One change of an application: what M&E computes processing times,
/// SLA compliance and channel uptake from.
struct CaseEvent {
  std::int64_t id = 0;
  std::string at;    ///< UTC
  std::string kind;  ///< submitted, paid, transition, approval, information_requested,
                     ///< information_provided, claimed, assigned, due_soon, overdue, action
  std::string from_state;
  std::string to_state;
  std::string transition;
  std::string actor;
  std::string actor_role;
  std::string organisation;
  std::string comment;
  nlohmann::json detail = nlohmann::json::object();
};

struct InformationRequest {
  std::int64_t id = 0;
  std::string asked_by;
  std::string asked_at;
  std::string question;
  std::optional<std::string> answered_at;
  std::optional<std::string> answer;
};

/// Who is acting: an official of an organisation with roles, or a citizen.
struct Who {
  std::string username;
  std::string kind;  ///< citizen, official, system
  std::optional<std::string> organisation;
  std::vector<std::string> roles;
  bool works_applications = false;  ///< holds applications.work
  static Who Of(const http::Principal& principal);
};

/// A transition someone may take now.
struct Available {
  std::string id;
  nlohmann::json label;  ///< {en, dz}
  std::string to;
  bool comment_required = false;
  std::int64_t approvals_needed = 1;
  std::int64_t approvals_given = 0;
  bool given_by_me = false;
};

struct QueueFilter {
  std::string state;     ///< empty: any open state
  std::string service;
  std::string assignee;  ///< a username, "me", "none" or empty
  std::string sla;       ///< on_time, due_soon, overdue, paused, not_started or empty
  bool closed = false;   ///< the closed instead of the open
  std::int64_t page = 1;
  std::int64_t page_size = 25;
};

struct QueuePage {
  std::vector<Case> cases;
  std::int64_t total = 0;
  std::int64_t page = 1;
  std::int64_t pages = 1;
};

/// Work an action left for others: a register update for the custodian's
/// stewards, a certificate to issue.
struct Task {
  std::int64_t id = 0;
  std::int64_t application_id = 0;
  std::string reference;
  std::string service;
  std::int64_t service_version = 0;
  std::string applicant;
  nlohmann::json answers;
  std::string kind;  ///< update_registry, issue_certificate
  std::optional<std::string> registry;
  std::string organisation;
  std::string status;  ///< open, done, declined
  std::string created_at;
  std::optional<std::string> done_by;
  std::optional<std::string> done_at;
  std::optional<std::string> note;
};

/// What a transition needs: the version the actor saw, and a comment.
struct Decision {
  std::string transition;
  std::int64_t row_version = 0;
  std::string comment;
};

class WorkflowService {
 public:
  WorkflowService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue, Calendar calendar);

  /// Called by the form runner inside the transaction that creates the
  /// application: sets the fee, and — when nothing is owed — starts the
  /// clock and runs the initial state's actions; notifies the applicant.
  Status OnSubmitted(db::Connection& c, const forms::Application& application, const nlohmann::json& definition,
                     const audit::Actor& actor);
  /// Called by payments inside the transaction that records the fee paid:
  /// starts the clock and runs the current state's actions.
  Status OnPaid(db::Connection& c, std::int64_t application_id, const std::string& payment_reference);

  /// One application, for whoever may see it (see MaySee). Errors: workflow.application_not_found.
  Result<Case> Get(const std::string& reference, const Who& who);
  /// True for the applicant, a citizen the workflow names, an operator
  /// who submitted it, and officials of the owner.
  bool MaySee(const Case& c, const Who& who) const;
  Result<std::vector<CaseEvent>> History(std::int64_t id);
  Result<std::vector<InformationRequest>> InformationRequests(std::int64_t id);
  /// The transitions `who` may take now.
  Result<std::vector<Available>> AvailableTo(const Case& c, const Who& who);
  /// The definition of the version the application was made on.
  Result<nlohmann::json> DefinitionOf(const Case& c) const;

  /// Takes (or, with parallel approvals, approves) a transition. Errors:
  /// workflow.application_not_found, workflow.not_allowed,
  /// workflow.transition_not_available, workflow.someone_else_acted,
  /// workflow.payment_due, workflow.already_approved, request.invalid (comment).
  Result<Case> Act(const std::string& reference, const Decision& decision, const Who& who, const audit::Actor& actor);
  /// Asks the applicant for more information; the SLA clock stops.
  Result<Case> RequestInformation(const std::string& reference, std::int64_t row_version, const std::string& question,
                                  const Who& who, const audit::Actor& actor);
  /// The applicant answers; the due date moves by the working days paused.
  Result<Case> ProvideInformation(const std::string& reference, const std::string& answer, const Who& who,
                                  const audit::Actor& actor);
  /// An officer takes the application (assignee = them), or gives it to
  /// another officer of the organisation ("" to release).
  Result<Case> Assign(const std::string& reference, std::int64_t row_version, const std::string& assignee,
                      const Who& who, const audit::Actor& actor);

  /// The organisation's applications.
  Result<QueuePage> Queue(const std::string& organisation, const QueueFilter& filter, const Who& who);
  /// The citizen's own applications, and those that wait for them.
  Result<std::vector<Case>> OfCitizen(const std::string& cid);
  Result<std::vector<Case>> WaitingFor(const std::string& cid);

  /// The current definitions of the services `organisation` owns (never
  /// published drafts left out): what the queue's filters and bulk actions
  /// offer.
  Result<std::vector<nlohmann::json>> OwnedDefinitions(const std::string& organisation);

  /// Marks applications due soon (≤ 1 working day left) and overdue, once
  /// each, telling the officers of the owner. Returns how many changed.
  Result<int> Escalate(const audit::Actor& actor);

  /// Open tasks of a kind for an organisation, oldest first.
  Result<std::vector<Task>> OpenTasks(const std::string& organisation, const std::string& kind);
  /// A task of the organisation. Errors: workflow.task_not_found.
  Result<Task> GetTask(std::int64_t id, const std::string& organisation);
  /// A steward of the custodian marks a register update done (the record
  /// was changed) or declines it with a reason; recorded on the
  /// application. Errors: workflow.task_not_found, workflow.task_closed,
  /// request.invalid (outcome, note).
  Result<Task> CloseTask(std::int64_t id, const std::string& outcome, const std::string& note, const Who& who,
                         const audit::Actor& actor);

  Sla SlaOf(const Case& c) const;
  const Calendar& calendar() const { return calendar_; }
  /// Replaces the working calendar (at start-up, once the holidays are read).
  void SetCalendar(Calendar calendar) { calendar_ = std::move(calendar); }
  /// The clock the workflow dates its events by (the pages date their audit records by it too).
  const Clock& clock() const { return clock_; }
  /// Issues an application's certificate inside the transaction that enters
  /// a state with `issue_certificate`; returns the certificate's id. Without
  /// one, the state leaves an open task instead.
  using CertificateIssuer =
      std::function<Result<std::string>(db::Connection& c, std::int64_t application_id, const std::string& now)>;
  void SetCertificateIssuer(CertificateIssuer issuer) { issuer_ = std::move(issuer); }

 private:
  Status Enter(db::Connection& c, Case& kase, const nlohmann::json& definition, const std::string& now,
               const std::string& comment = "");

  db::Database& db_;
  const Clock& clock_;
  services::ServiceCatalogue& catalogue_;
  Calendar calendar_;
  CertificateIssuer issuer_;
};

/// Runs Escalate on a thread of the server every `interval`.
class Escalator {
 public:
  Escalator(WorkflowService& workflow, std::chrono::seconds interval, std::function<void(const Error&)> on_error);
  ~Escalator();
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The calendar kept in the database (public holidays seeded from the
/// embedded list), with `weekend` days.
Result<Calendar> LoadCalendar(db::Database& db, const std::array<bool, 7>& weekend);
/// Adds the embedded public holidays not yet in the database.
Result<int> SeedHolidays(db::Database& db);

/// JSON API: GET /api/v1/applications, GET /api/v1/applications/{reference},
/// POST /api/v1/applications/{reference}/actions.
Status AddRoutes(http::Router& router, WorkflowService& workflow);
/// The stewards' register updates asked by applications: /steward/tasks….
Status AddTaskPages(http::Router& router, WorkflowService& workflow, web::Web& web);
/// Pages: /my/applications…, /work… (the officer's queue).
Status AddPages(http::Router& router, WorkflowService& workflow, forms::FormService& forms,
                registries::RegistryService& registries, web::Web& web);

std::span<const EmbeddedFile> Migrations();

}  // namespace dzong::workflow
