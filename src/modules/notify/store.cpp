#include "modules/notify/store.h"

namespace dzong::notify::store {
namespace {

using db::Value;

Value Opt(const std::optional<std::string>& v) { return v ? Value(*v) : Value(nullptr); }

constexpr char kNoticeColumns[] =
    "n.id, n.channel, n.recipient, n.template, n.payload, n.language, n.application, n.status, n.attempts, "
    "n.last_error, n.created_at, n.sent_at, n.failed_at";

NoticeRow NoticeFrom(const db::Row& r) {
  NoticeRow n;
  n.id = r.Int(0);
  n.channel = r.Text(1);
  n.recipient = r.Text(2);
  n.template_id = r.Text(3);
  n.payload = r.Text(4);
  n.language = r.OptText(5);
  n.application = r.OptText(6);
  n.status = r.Text(7);
  n.attempts = r.Int(8);
  n.last_error = r.OptText(9);
  n.created_at = r.Text(10);
  n.sent_at = r.OptText(11);
  n.failed_at = r.OptText(12);
  return n;
}

// Which failed notices an organisation's officers answer for: those about
// the applications it owns (the form runner's applications table), and
// those addressed to the organisation itself.
constexpr char kOfOrganisation[] =
    "(n.application IN (SELECT reference FROM applications WHERE owner = ?) OR "
    "(n.channel = 'organisation' AND n.recipient = ?))";

}  // namespace

Status InsertNotice(db::Connection& c, const std::string& channel, const std::string& recipient,
                    const std::string& template_id, const std::string& payload,
                    const std::optional<std::string>& language, const std::optional<std::string>& application,
                    const std::string& now) {
  const Value params[] = {channel, recipient, template_id, payload, now, Opt(language), Opt(application)};
  DZONG_TRY(c.Execute("INSERT INTO notification_outbox (channel, recipient, template, payload, created_at, language, "
                      "application) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      params));
  return {};
}

Result<std::optional<AccountRow>> FindAccount(db::Connection& c, const std::string& username) {
  const Value params[] = {username};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("SELECT username, language, kind FROM accounts WHERE username = ?", params));
  if (rows.empty()) return std::optional<AccountRow>();
  return std::optional<AccountRow>(AccountRow{rows[0].Text(0), rows[0].OptText(1).value_or(""), rows[0].Text(2)});
}

Result<bool> OrganisationExists(db::Connection& c, const std::string& code) {
  const Value params[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT 1 FROM organisations WHERE code = ?", params));
  return !rows.empty();
}

Result<std::vector<AccountRow>> Officers(db::Connection& c, const std::string& organisation) {
  const Value params[] = {organisation};
  DZONG_ASSIGN_OR_RETURN(
      db::Rows rows,
      c.Query("SELECT DISTINCT a.username, a.language, a.kind FROM accounts a JOIN role_grants g ON g.account_id = a.id "
              "WHERE g.organisation = ? AND g.role = 'officer' AND g.status = 'active' AND a.status = 'active' "
              "ORDER BY a.username",
              params));
  std::vector<AccountRow> out;
  for (const auto& r : rows) out.push_back({r.Text(0), r.OptText(1).value_or(""), r.Text(2)});
  return out;
}

Result<std::optional<ContactRow>> FindContact(db::Connection& c, const std::string& username) {
  const Value params[] = {username};
  DZONG_ASSIGN_OR_RETURN(
      db::Rows rows,
      c.Query("SELECT email, mobile, language, updated_at FROM contact_details WHERE username = ?", params));
  if (rows.empty()) return std::optional<ContactRow>();
  return std::optional<ContactRow>(ContactRow{rows[0].OptText(0).value_or(""), rows[0].OptText(1).value_or(""),
                                              rows[0].OptText(2).value_or(""), rows[0].Text(3)});
}

Status UpsertContact(db::Connection& c, const std::string& username, const ContactRow& contact) {
  const auto text = [](const std::string& v) { return v.empty() ? Value(nullptr) : Value(v); };
  const Value params[] = {username, text(contact.email), text(contact.mobile), text(contact.language),
                          contact.updated_at};
  DZONG_TRY(c.Execute("INSERT INTO contact_details (username, email, mobile, language, updated_at) VALUES "
                      "(?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET email = excluded.email, mobile = "
                      "excluded.mobile, language = excluded.language, updated_at = excluded.updated_at",
                      params));
  return {};
}

Result<std::vector<std::int64_t>> DueNotices(db::Connection& c, const std::string& now, int limit) {
  const Value params[] = {now, static_cast<std::int64_t>(limit)};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("SELECT id FROM notification_outbox WHERE status = 'pending' AND "
                                 "(next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
                                 params));
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.Int(0));
  return out;
}

Result<bool> Claim(db::Connection& c, std::int64_t id, const std::string& now, const std::string& until) {
  const Value params[] = {until, id, now};
  DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                         c.Execute("UPDATE notification_outbox SET next_attempt_at = ? WHERE id = ? AND status = "
                                   "'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
                                   params));
  return changed == 1;
}

Result<std::optional<NoticeRow>> FindNotice(db::Connection& c, std::int64_t id) {
  const Value params[] = {id};
  DZONG_ASSIGN_OR_RETURN(
      db::Rows rows, c.Query(std::string("SELECT ") + kNoticeColumns + " FROM notification_outbox n WHERE n.id = ?", params));
  if (rows.empty()) return std::optional<NoticeRow>();
  return std::optional<NoticeRow>(NoticeFrom(rows[0]));
}

Result<std::vector<DeliveryRow>> Deliveries(db::Connection& c, std::int64_t notice_id) {
  const Value params[] = {notice_id};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query("SELECT id, notice_id, account, medium, address, language, status, attempts, "
                                 "next_attempt_at, last_error FROM notification_deliveries WHERE notice_id = ? "
                                 "ORDER BY id",
                                 params));
  std::vector<DeliveryRow> out;
  for (const auto& r : rows) {
    out.push_back({r.Int(0), r.Int(1), r.OptText(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Int(7),
                   r.OptText(8), r.OptText(9)});
  }
  return out;
}

Status InsertDelivery(db::Connection& c, const DeliveryRow& d) {
  const Value params[] = {d.notice_id, Opt(d.account), d.medium, d.address, d.language};
  DZONG_TRY(c.Execute("INSERT INTO notification_deliveries (notice_id, account, medium, address, language) VALUES "
                      "(?, ?, ?, ?, ?) ON CONFLICT (notice_id, medium, address) DO NOTHING",
                      params));
  return {};
}

Status UpdateDelivery(db::Connection& c, const DeliveryRow& d, const std::optional<std::string>& sent_at) {
  const Value params[] = {d.status, d.attempts, Opt(d.next_attempt_at), Opt(d.last_error), Opt(sent_at), d.id};
  DZONG_TRY(c.Execute("UPDATE notification_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
                      "last_error = ?, sent_at = ? WHERE id = ?",
                      params));
  return {};
}

Status UpdateNotice(db::Connection& c, std::int64_t id, const std::string& status, std::int64_t attempts,
                    const std::optional<std::string>& next_attempt_at, const std::optional<std::string>& last_error,
                    const std::optional<std::string>& sent_at, const std::optional<std::string>& failed_at) {
  const Value params[] = {status, attempts, Opt(next_attempt_at), Opt(last_error), Opt(sent_at), Opt(failed_at), id};
  DZONG_TRY(c.Execute("UPDATE notification_outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                      "sent_at = ?, failed_at = ? WHERE id = ?",
                      params));
  return {};
}

Result<std::vector<NoticeRow>> Inbox(db::Connection& c, const std::string& username, const std::string& organisation,
                                     int limit) {
  const Value params[] = {username, organisation, static_cast<std::int64_t>(limit)};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query(std::string("SELECT ") + kNoticeColumns +
                                     " FROM notification_outbox n WHERE (n.channel = 'account' AND n.recipient = ?) OR "
                                     "(n.channel = 'organisation' AND n.recipient = ?) ORDER BY n.id DESC LIMIT ?",
                                 params));
  std::vector<NoticeRow> out;
  for (const auto& r : rows) out.push_back(NoticeFrom(r));
  return out;
}

Result<std::vector<NoticeRow>> FailedFor(db::Connection& c, const std::string& organisation, int limit) {
  const Value params[] = {organisation, organisation, static_cast<std::int64_t>(limit)};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kNoticeColumns +
                                                    " FROM notification_outbox n WHERE n.status = 'failed' AND " +
                                                    kOfOrganisation + " ORDER BY n.id DESC LIMIT ?",
                                                params));
  std::vector<NoticeRow> out;
  for (const auto& r : rows) out.push_back(NoticeFrom(r));
  return out;
}

Result<std::optional<std::string>> StatusFor(db::Connection& c, std::int64_t id, const std::string& organisation) {
  const Value params[] = {id, organisation, organisation};
  DZONG_ASSIGN_OR_RETURN(
      db::Rows rows,
      c.Query(std::string("SELECT n.status FROM notification_outbox n WHERE n.id = ? AND ") + kOfOrganisation, params));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Text(0));
}

Result<bool> Retry(db::Connection& c, std::int64_t id, const std::string& now) {
  const Value params[] = {now, id};
  DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                         c.Execute("UPDATE notification_outbox SET status = 'pending', attempts = 0, "
                                   "next_attempt_at = ?, last_error = NULL, failed_at = NULL WHERE id = ? AND "
                                   "status = 'failed'",
                                   params));
  if (changed != 1) return false;
  DZONG_TRY(c.Execute("UPDATE notification_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                      "last_error = NULL WHERE notice_id = ? AND status = 'failed'",
                      params));
  return true;
}

}  // namespace dzong::notify::store

