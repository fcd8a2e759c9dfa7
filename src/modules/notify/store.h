#pragma once
// The notify module's SQL (internal to the module): the outbox, its
// deliveries, and contact details.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "db/database.h"

namespace dzong::notify::store {

struct NoticeRow {
  std::int64_t id = 0;
  std::string channel;
  std::string recipient;
  std::string template_id;
  std::string payload;
  std::optional<std::string> language;
  std::optional<std::string> application;
  std::string status;
  std::int64_t attempts = 0;
  std::optional<std::string> last_error;
  std::string created_at;
  std::optional<std::string> sent_at;
  std::optional<std::string> failed_at;
};

struct DeliveryRow {
  std::int64_t id = 0;
  std::int64_t notice_id = 0;
  std::optional<std::string> account;
  std::string medium;  ///< email, sms
  std::string address;
  std::string language;
  std::string status;
  std::int64_t attempts = 0;
  std::optional<std::string> next_attempt_at;
  std::optional<std::string> last_error;
};

struct ContactRow {
  std::string email;
  std::string mobile;
  std::string language;  ///< en, dz, or empty
  std::string updated_at;
};

/// An account that exists, with its language (empty when it has none).
struct AccountRow {
  std::string username;
  std::string language;
  std::string kind;
};

Status InsertNotice(db::Connection& c, const std::string& channel, const std::string& recipient,
                    const std::string& template_id, const std::string& payload,
                    const std::optional<std::string>& language, const std::optional<std::string>& application,
                    const std::string& now);

Result<std::optional<AccountRow>> FindAccount(db::Connection& c, const std::string& username);
Result<bool> OrganisationExists(db::Connection& c, const std::string& code);
/// The active accounts holding an active officer grant in the organisation.
Result<std::vector<AccountRow>> Officers(db::Connection& c, const std::string& organisation);

Result<std::optional<ContactRow>> FindContact(db::Connection& c, const std::string& username);
Status UpsertContact(db::Connection& c, const std::string& username, const ContactRow& contact);

/// Ids of pending notices whose time has come, oldest first.
Result<std::vector<std::int64_t>> DueNotices(db::Connection& c, const std::string& now, int limit);
/// Takes a due notice for this sender until `until`; false when another took it first.
Result<bool> Claim(db::Connection& c, std::int64_t id, const std::string& now, const std::string& until);
Result<std::optional<NoticeRow>> FindNotice(db::Connection& c, std::int64_t id);
Result<std::vector<DeliveryRow>> Deliveries(db::Connection& c, std::int64_t notice_id);
Status InsertDelivery(db::Connection& c, const DeliveryRow& d);
Status UpdateDelivery(db::Connection& c, const DeliveryRow& d, const std::optional<std::string>& sent_at);
/// Sets the notice's status and schedule from what its deliveries came to.
Status UpdateNotice(db::Connection& c, std::int64_t id, const std::string& status, std::int64_t attempts,
                    const std::optional<std::string>& next_attempt_at, const std::optional<std::string>& last_error,
                    const std::optional<std::string>& sent_at, const std::optional<std::string>& failed_at);

/// The notices to an account (and, for an officer, to their organisation), newest first.
Result<std::vector<NoticeRow>> Inbox(db::Connection& c, const std::string& username, const std::string& organisation,
                                     int limit);
/// Failed notices about the organisation's applications, or addressed to it, newest first.
Result<std::vector<NoticeRow>> FailedFor(db::Connection& c, const std::string& organisation, int limit);
/// The status of a notice the organisation answers for; nullopt for any other.
Result<std::optional<std::string>> StatusFor(db::Connection& c, std::int64_t id, const std::string& organisation);
/// Puts a failed notice back to pending, due now, its failed deliveries with
/// it. False when it has not failed.
Result<bool> Retry(db::Connection& c, std::int64_t id, const std::string& now);

}  // namespace dzong::notify::store
