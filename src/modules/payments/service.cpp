// The payment rules: what an application owes, starting a payment, applying
// a gateway's outcome exactly once, refunds, and the day's payments of an
// organisation.
#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/csv.h"
#include "modules/forms/form.h"
#include "modules/notify/notify.h"
#include "modules/organisations/organisations.h"
#include "modules/payments/payments.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong {
std::span<const EmbeddedFile> PaymentMigrationFiles();
}

namespace dzong::payments {

std::span<const EmbeddedFile> Migrations() { return PaymentMigrationFiles(); }

using nlohmann::json;

std::string FormatNu(std::int64_t chhertum) {
  const bool negative = chhertum < 0;
  const std::uint64_t value = negative ? static_cast<std::uint64_t>(-(chhertum + 1)) + 1 : static_cast<std::uint64_t>(chhertum);
  const std::string digits = std::to_string(value / 100);
  std::string whole;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) whole += ',';
    whole += digits[i];
  }
  return fmt::format("{}Nu. {}.{:02}", negative ? "-" : "", whole, value % 100);
}

namespace {

constexpr char kColumns[] =
    "id, reference, application_id, application_reference, owner, payer, amount, status, gateway, "
    "gateway_transaction, redirect_url, created_at, updated_at, settled_at, refunded_at, refunded_by, refund_reason";

Payment FromRow(const db::Row& row) {
  Payment p;
  p.id = row.Int(0);
  p.reference = row.Text(1);
  p.application_id = row.Int(2);
  p.application_reference = row.Text(3);
  p.owner = row.Text(4);
  p.payer = row.Text(5);
  p.amount = row.Int(6);
  p.status = row.Text(7);
  p.gateway = row.Text(8);
  p.gateway_transaction = row.OptText(9);
  p.redirect_url = row.OptText(10);
  p.created_at = row.Text(11);
  p.updated_at = row.Text(12);
  p.settled_at = row.OptText(13);
  p.refunded_at = row.OptText(14);
  p.refunded_by = row.OptText(15);
  p.refund_reason = row.OptText(16);
  return p;
}

Result<std::optional<Payment>> FindPayment(db::Connection& c, const std::string& reference) {
  const db::Value key[] = {reference};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM payments WHERE reference = ?", kColumns), key));
  if (rows.empty()) return std::optional<Payment>();
  return std::optional<Payment>(FromRow(rows.front()));
}

struct ApplicationRow {
  std::int64_t id = 0;
  std::string reference, service, owner, applicant;
  std::int64_t version = 0;
  json answers;
};

Result<std::optional<ApplicationRow>> FindApplication(db::Connection& c, const std::string& column, const db::Value& key) {
  const db::Value params[] = {key};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         c.Query(fmt::format("SELECT id, reference, service, service_version, owner, applicant, answers "
                                             "FROM applications WHERE {} = ?",
                                             column),
                                 params));
  if (rows.empty()) return std::optional<ApplicationRow>();
  const db::Row& row = rows.front();
  ApplicationRow a;
  a.id = row.Int(0);
  a.reference = row.Text(1);
  a.service = row.Text(2);
  a.version = row.Int(3);
  a.owner = row.Text(4);
  a.applicant = row.Text(5);
  a.answers = json::parse(row.Text(6), nullptr, false);
  return std::optional<ApplicationRow>(std::move(a));
}

bool Final(const std::string& status) { return status != kInitiated && status != kPending; }

Status RecordChange(db::Connection& c, const Clock& clock, const Payment& payment, const std::optional<std::string>& from,
                    const std::string& source, const audit::Actor& actor, json detail) {
  const std::string now = FormatUtc(clock.Now());
  detail["from"] = from ? json(*from) : json(nullptr);
  detail["to"] = payment.status;
  detail["source"] = source;
  detail["amount"] = payment.amount;
  detail["application"] = payment.application_reference;
  const db::Value event[] = {payment.id, now, from ? db::Value(*from) : db::Value(nullptr), payment.status, source,
                             actor.id, detail.dump()};
  DZONG_TRY(c.Execute("INSERT INTO payment_events (payment_id, at, from_status, to_status, source, actor, detail) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)",
                      event));
  audit::Event e = audit::For(actor, "payments.status_changed", "payment", payment.reference, detail.dump());
  e.subject = payment.payer;
  e.purpose = payment.application_reference;
  DZONG_TRY(audit::Append(c, e, clock));
  return {};
}

}  // namespace

PaymentService::PaymentService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue,
                               organisations::OrganisationService& organisations, Gateway& gateway)
    : db_(db), clock_(clock), catalogue_(catalogue), organisations_(organisations), gateway_(gateway) {}

namespace {

/// The payer's notice of a payment or a refund, in the change's transaction.
Status TellPayer(db::Connection& c, const Payment& p, const char* template_id, const std::string& comment,
                 const std::string& now) {
  json params = {{"reference", p.application_reference},
                 {"amount", FormatNu(p.amount)},
                 {"receipt_path", "/my/payments/" + p.reference}};
  if (!comment.empty()) params["comment"] = comment;
  notify::Notice notice{"account", p.payer, template_id, std::move(params), "", p.application_reference};
  notice.unless_no_account = true;
  return notify::Enqueue(c, notice, now);
}

}  // namespace

void PaymentService::SetOnPaid(OnPaid hook) { on_paid_ = std::move(hook); }
void PaymentService::SetCallbackOrigin(std::string origin) { callback_origin_ = std::move(origin); }

Result<std::int64_t> PaymentService::FeeOf(const std::string& service, std::int64_t version, const json& answers) {
  DZONG_ASSIGN_OR_RETURN(services::Version v, catalogue_.GetVersion(service, version));
  return forms::FeeFor(v.definition, answers);
}

Result<bool> PaymentService::Settled(db::Connection& c, std::int64_t application_id) {
  DZONG_ASSIGN_OR_RETURN(auto application, FindApplication(c, "id", application_id));
  if (!application) return Error(errc::kApplicationNotFound, "no such application");
  DZONG_ASSIGN_OR_RETURN(std::int64_t fee, FeeOf(application->service, application->version, application->answers));
  if (fee <= 0) return true;
  const db::Value params[] = {application_id, fee};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT COUNT(*) FROM payments WHERE application_id = ? AND "
                                                "status = 'succeeded' AND amount >= ?",
                                                params));
  return rows.at(0).Int(0) > 0;
}

Result<PaymentService::Owing> PaymentService::Owed(const std::string& application_reference,
                                                   const std::string& applicant) {
  auto application = db_.ReadValue<std::optional<ApplicationRow>>(
      [&](db::Connection& c) { return FindApplication(c, "reference", application_reference); });
  if (!application.ok()) return std::move(application).error();
  if (!*application || (*application)->applicant != applicant) {
    return Error(errc::kApplicationNotFound, "You have no application with that reference");
  }
  const ApplicationRow& a = **application;
  Owing owing;
  owing.application_id = a.id;
  owing.application_reference = a.reference;
  owing.service = a.service;
  owing.version = a.version;
  owing.owner = a.owner;
  owing.applicant = a.applicant;
  DZONG_ASSIGN_OR_RETURN(services::Version v, catalogue_.GetVersion(a.service, a.version));
  owing.service_title = v.definition.contains("title") ? v.definition["title"] : json::object();
  owing.fee = forms::FeeFor(v.definition, a.answers);
  auto payments = db_.ReadValue<std::vector<Payment>>([&](db::Connection& c) -> Result<std::vector<Payment>> {
    const db::Value key[] = {a.id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM payments WHERE application_id = ? "
                                                              "ORDER BY id DESC",
                                                              kColumns),
                                                  key));
    std::vector<Payment> out;
    for (const auto& row : rows) out.push_back(FromRow(row));
    return out;
  });
  if (!payments.ok()) return std::move(payments).error();
  owing.payments = std::move(*payments);
  owing.settled = owing.fee <= 0 || std::any_of(owing.payments.begin(), owing.payments.end(), [&](const Payment& p) {
                    return p.status == kSucceeded && p.amount >= owing.fee;
                  });
  return owing;
}

Result<Payment> PaymentService::Start(const std::string& application_reference, const std::string& applicant,
                                      const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Owing owing, Owed(application_reference, applicant));
  if (owing.fee <= 0) return Error(errc::kNothingOwed, "This application has no fee to pay");
  std::string merchant = owing.owner;
  if (auto o = organisations_.Get(owing.owner); o.ok()) merchant = o->name_en;
  const std::string now = FormatUtc(clock_.Now());
  const std::string year = now.substr(0, 4);
  auto made = db_.WriteValue<Payment>([&](db::Connection& c) -> Result<Payment> {
    // Decided inside the transaction: two clicks cannot both start a payment
    // of a fee already paid.
    const db::Value paid[] = {owing.application_id, owing.fee};
    DZONG_ASSIGN_OR_RETURN(db::Rows settled, c.Query("SELECT COUNT(*) FROM payments WHERE application_id = ? AND "
                                                     "status = 'succeeded' AND amount >= ?",
                                                     paid));
    if (settled.at(0).Int(0) > 0) return Error(errc::kAlreadyPaid, "The fee of this application is paid");
    const db::Value app[] = {owing.application_id};
    DZONG_ASSIGN_OR_RETURN(db::Rows open, c.Query(fmt::format("SELECT {} FROM payments WHERE application_id = ? AND "
                                                              "status IN ('initiated', 'pending')",
                                                              kColumns),
                                                  app));
    for (const auto& row : open) {
      // The citizen started again: the payment left behind is cancelled on
      // our side, so that at most one is open.
      Payment left = FromRow(row);
      const std::string was = left.status;
      const db::Value change[] = {now, now, left.id, was};
      DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE payments SET status = 'cancelled', updated_at = ?, "
                                                       "settled_at = ? WHERE id = ? AND status = ?",
                                                       change));
      if (n != 1) continue;
      left.status = kCancelled;
      DZONG_TRY(RecordChange(c, clock_, left, was, "restart", actor, json{{"reason", "a new payment was started"}}));
    }
    const db::Value counter[] = {owing.owner, std::int64_t{std::stoi(year)}};
    DZONG_ASSIGN_OR_RETURN(db::Rows next,
                           c.Query("INSERT INTO payment_sequences (owner, year, last_number) VALUES (?, ?, 1) "
                                   "ON CONFLICT (owner, year) DO UPDATE SET last_number = "
                                   "payment_sequences.last_number + 1 RETURNING last_number",
                                   counter));
    Payment p;
    p.reference = fmt::format("PAY-{}-{}-{:06}", owing.owner, year, next.at(0).Int(0));
    p.application_id = owing.application_id;
    p.application_reference = owing.application_reference;
    p.owner = owing.owner;
    p.payer = owing.applicant;
    p.amount = owing.fee;
    p.status = kInitiated;
    p.gateway = gateway_.Name();
    p.created_at = now;
    p.updated_at = now;
    const db::Value row[] = {p.reference, p.application_id, p.application_reference, p.owner, p.payer,
                             p.amount,    p.status,         p.gateway,               now,     now};
    DZONG_ASSIGN_OR_RETURN(db::Rows id, c.Query("INSERT INTO payments (reference, application_id, application_reference, "
                                                "owner, payer, amount, status, gateway, created_at, updated_at) VALUES "
                                                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                                row));
    p.id = id.at(0).Int(0);
    DZONG_TRY(RecordChange(c, clock_, p, std::nullopt, "start", actor, json::object()));
    return p;
  });
  if (!made.ok()) return std::move(made).error();
  Payment p = std::move(*made);

  GatewayRequest request;
  request.payment_reference = p.reference;
  request.amount = p.amount;
  request.merchant_code = p.owner;
  request.merchant_name = merchant;
  request.description = fmt::format("{} · {}", services::TextIn(owing.service_title, "en"), p.application_reference);
  request.callback_url = fmt::format("{}/api/v1/payment-callbacks/{}", callback_origin_, gateway_.Name());
  request.return_url = "/my/payments/" + p.reference;
  auto started = gateway_.Start(request);
  const std::string later = FormatUtc(clock_.Now());
  Status recorded = db_.Write([&](db::Connection& c) -> Status {
    if (started.ok()) {
      const db::Value row[] = {started->transaction_id, started->redirect_url, later, p.id};
      DZONG_TRY(c.Execute("UPDATE payments SET gateway_transaction = ?, redirect_url = ?, updated_at = ? WHERE id = ?", row));
      return {};
    }
    const db::Value row[] = {later, later, p.id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE payments SET status = 'failed', updated_at = ?, "
                                                     "settled_at = ? WHERE id = ? AND status = 'initiated'",
                                                     row));
    if (n == 1) {
      Payment failed = p;
      failed.status = kFailed;
      DZONG_TRY(RecordChange(c, clock_, failed, std::string(kInitiated), "start", actor,
                             json{{"reason", started.error().message}}));
    }
    return {};
  });
  if (!recorded.ok()) return std::move(recorded).error();
  if (!started.ok()) return std::move(started).error();
  p.gateway_transaction = started->transaction_id;
  p.redirect_url = started->redirect_url;
  return p;
}

Result<Payment> PaymentService::Apply(const GatewayOutcome& outcome, const std::string& source,
                                      const audit::Actor& actor) {
  const std::string now = FormatUtc(clock_.Now());
  return db_.WriteValue<Payment>([&](db::Connection& c) -> Result<Payment> {
    DZONG_ASSIGN_OR_RETURN(auto found, FindPayment(c, outcome.payment_reference));
    if (!found || found->gateway_transaction.value_or("") != outcome.transaction_id) {
      return Error(errc::kNotFound, "no payment matches the gateway's reference and transaction");
    }
    Payment p = std::move(*found);
    std::string to;
    if (outcome.status == kPending && p.status == kInitiated) {
      to = kPending;
    } else if ((outcome.status == kSucceeded || outcome.status == kFailed || outcome.status == kCancelled) && p.Open()) {
      to = outcome.status;
    }
    if (to.empty()) return p;  // nothing new: a repeat, or the gateway has not decided
    if (to == kSucceeded && outcome.amount != p.amount) {
      return Error(errc::kAmountMismatch, fmt::format("the gateway reports {} paid for a payment of {}",
                                                      FormatNu(outcome.amount), FormatNu(p.amount)));
    }
    const std::string from = p.status;
    const db::Value change[] = {to, now, Final(to) ? db::Value(now) : db::Value(nullptr), p.id, from};
    DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE payments SET status = ?, updated_at = ?, settled_at = ? "
                                                     "WHERE id = ? AND status = ?",
                                                     change));
    if (n != 1) {
      // Another callback or query got there first; what it wrote stands.
      DZONG_ASSIGN_OR_RETURN(auto again, FindPayment(c, outcome.payment_reference));
      return *again;
    }
    p.status = to;
    p.updated_at = now;
    if (Final(to)) p.settled_at = now;
    DZONG_TRY(RecordChange(c, clock_, p, from, source, actor, json{{"transaction", outcome.transaction_id}}));
    if (to == kSucceeded) {
      DZONG_TRY(TellPayer(c, p, "payment.received", "", now));
      if (on_paid_) DZONG_TRY(on_paid_(c, p.application_id, p.reference));
    }
    return p;
  });
}

Result<Payment> PaymentService::Callback(const std::string& gateway, const http::Request& request,
                                         const audit::Actor& actor) {
  if (gateway != gateway_.Name()) return Error(errc::kUnknownGateway, "no such payment gateway");
  DZONG_ASSIGN_OR_RETURN(GatewayOutcome outcome, gateway_.Verify(request));
  audit::Actor from_gateway = actor;
  from_gateway.id = "gateway:" + gateway;
  return Apply(outcome, "callback", from_gateway);
}

Result<Payment> PaymentService::Refresh(const std::string& reference, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Payment p, Get(reference));
  if (!p.Open() || !p.gateway_transaction) return p;
  DZONG_ASSIGN_OR_RETURN(GatewayOutcome outcome, gateway_.Query(*p.gateway_transaction));
  if (outcome.payment_reference != p.reference) return Error(errc::kNotFound, "the gateway's answer is for another payment");
  return Apply(outcome, "status_query", actor);
}

Result<Payment> PaymentService::Refund(const std::string& reference, const std::string& reason,
                                       const audit::Actor& actor) {
  std::string trimmed = reason;
  trimmed.erase(0, trimmed.find_first_not_of(" \t\r\n"));
  trimmed.erase(trimmed.find_last_not_of(" \t\r\n") + 1);
  if (trimmed.empty()) return Invalid({{"reason", "required", "Give the reason for the refund"}});
  if (trimmed.size() > 1000) return Invalid({{"reason", "max_length", "The reason must be 1000 characters or fewer"}});
  DZONG_ASSIGN_OR_RETURN(Payment p, Get(reference));
  if (!actor.organisation || *actor.organisation != p.owner) {
    return Error(errc::kForbidden, "Only officials of the organisation paid may refund its payments");
  }
  if (p.status != kSucceeded || !p.gateway_transaction) {
    return Error(errc::kNotRefundable, "Only a succeeded payment can be refunded");
  }
  DZONG_TRY(gateway_.Refund(*p.gateway_transaction, p.amount, trimmed));
  const std::string now = FormatUtc(clock_.Now());
  return db_.WriteValue<Payment>([&](db::Connection& c) -> Result<Payment> {
    const db::Value change[] = {now, now, actor.id, trimmed, p.id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE payments SET status = 'refunded', updated_at = ?, "
                                                     "refunded_at = ?, refunded_by = ?, refund_reason = ? "
                                                     "WHERE id = ? AND status = 'succeeded'",
                                                     change));
    if (n != 1) return Error(errc::kNotRefundable, "The payment was refunded or changed meanwhile");
    Payment done = p;
    done.status = kRefunded;
    done.updated_at = now;
    done.refunded_at = now;
    done.refunded_by = actor.id;
    done.refund_reason = trimmed;
    DZONG_TRY(RecordChange(c, clock_, done, std::string(kSucceeded), "refund", actor, json{{"reason", trimmed}}));
    DZONG_TRY(TellPayer(c, done, "payment.refunded", trimmed, now));
    return done;
  });
}

Result<Payment> PaymentService::Get(const std::string& reference) {
  return db_.ReadValue<Payment>([&](db::Connection& c) -> Result<Payment> {
    DZONG_ASSIGN_OR_RETURN(auto found, FindPayment(c, reference));
    if (!found) return Error(errc::kNotFound, "no such payment");
    return std::move(*found);
  });
}

Result<std::vector<PaymentEvent>> PaymentService::History(std::int64_t payment_id) {
  return db_.ReadValue<std::vector<PaymentEvent>>([&](db::Connection& c) -> Result<std::vector<PaymentEvent>> {
    const db::Value key[] = {payment_id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT at, from_status, to_status, source, actor FROM payment_events "
                                                  "WHERE payment_id = ? ORDER BY id",
                                                  key));
    std::vector<PaymentEvent> out;
    for (const auto& row : rows) out.push_back({row.Text(0), row.OptText(1), row.Text(2), row.Text(3), row.Text(4)});
    return out;
  });
}

Result<std::vector<Payment>> PaymentService::ForDay(const std::string& owner, const std::string& day) {
  const auto date = ParseDate(day);
  if (!date) return Invalid({{"date", "date", "date must be a day written YYYY-MM-DD"}});
  // A day of Bhutan time (UTC+6) begins at 18:00 UTC the day before.
  const auto start = std::chrono::sys_time<std::chrono::hours>(*date) - std::chrono::hours(6);
  const std::string from = FormatUtc(start);
  const std::string to = FormatUtc(start + std::chrono::hours(24));
  return db_.ReadValue<std::vector<Payment>>([&](db::Connection& c) -> Result<std::vector<Payment>> {
    const db::Value params[] = {owner, from, to};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM payments WHERE owner = ? AND "
                                                              "created_at >= ? AND created_at < ? ORDER BY id",
                                                              kColumns),
                                                  params));
    std::vector<Payment> out;
    for (const auto& row : rows) out.push_back(FromRow(row));
    return out;
  });
}

Result<std::string> PaymentService::ReconciliationCsv(const std::string& owner, const std::string& day) {
  DZONG_ASSIGN_OR_RETURN(std::vector<Payment> day_payments, ForDay(owner, day));
  std::string out;
  AppendCsvRecord(out, {"payment_reference", "application_reference", "payer", "amount_chhertum", "amount", "status",
                        "gateway", "gateway_transaction", "started_at_btt", "settled_at_btt", "refunded_at_btt",
                        "refunded_by", "refund_reason"});
  for (const Payment& p : day_payments) {
    AppendCsvRecord(out, {p.reference, p.application_reference, p.payer, std::to_string(p.amount), FormatNu(p.amount),
                          p.status, p.gateway, p.gateway_transaction.value_or(""), web::BhutanTime(p.created_at),
                          p.settled_at ? web::BhutanTime(*p.settled_at) : "",
                          p.refunded_at ? web::BhutanTime(*p.refunded_at) : "", p.refunded_by.value_or(""),
                          p.refund_reason.value_or("")});
  }
  return out;
}

}  // namespace dzong::payments
