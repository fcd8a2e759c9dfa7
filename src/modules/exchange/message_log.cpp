// The exchange's message log: each answered read, chained by hash like the
// audit log, written in the transaction that records the request's nonce and
// the audit events of the call, before the answer goes out.
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/exchange/exchange.h"

namespace dzong::exchange {
namespace {

using nlohmann::json;

constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

constexpr auto kNonceLifetime = std::chrono::minutes(11);

constexpr char kColumns[] =
    "seq, at, client, consumer, registry, record_key, purpose, agreement_id, request_id, nonce, request_signature, "
    "response_digest, response_signature, status, body, prev_hash, hash";

Message FromRow(const db::RowView& r) {
  Message m;
  m.seq = r.Int(0);
  m.at = std::string(r.Text(1));
  m.client = std::string(r.Text(2));
  m.consumer = std::string(r.Text(3));
  m.registry = std::string(r.Text(4));
  m.record_key = std::string(r.Text(5));
  m.purpose = std::string(r.Text(6));
  m.agreement_id = r.Int(7);
  m.request_id = std::string(r.Text(8));
  m.nonce = std::string(r.Text(9));
  m.request_signature = std::string(r.Text(10));
  m.response_digest = std::string(r.Text(11));
  m.response_signature = std::string(r.Text(12));
  m.status = static_cast<int>(r.Int(13));
  if (!r.IsNull(14)) m.body = std::string(r.Text(14));
  m.prev_hash = std::string(r.Text(15));
  m.hash = std::string(r.Text(16));
  return m;
}

}  // namespace

std::string MessageCanonical(const Message& m) {
  json fields = json::array({m.seq, m.at, m.client, m.consumer, m.registry, m.record_key, m.purpose, m.agreement_id,
                             m.request_id, m.nonce, m.request_signature, m.response_digest, m.response_signature,
                             m.status, m.body ? json(*m.body) : json(), m.prev_hash});
  return fields.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status RecordMessage(db::Connection& c, Message m, const Clock& clock) {
  m.at = FormatUtc(clock.Now());
  DZONG_ASSIGN_OR_RETURN(db::Rows head,
                         c.Query("UPDATE exchange_message_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"));
  if (head.empty()) return Error(dzong::errc::kInternal, "the message log has no head; run dzong migrate");
  m.seq = head[0].Int(0);
  m.prev_hash = head[0].Text(1);
  m.hash = Sha256Hex(MessageCanonical(m));
  const db::Value row[] = {m.seq,
                           m.at,
                           m.client,
                           m.consumer,
                           m.registry,
                           m.record_key,
                           m.purpose,
                           m.agreement_id,
                           m.request_id,
                           m.nonce,
                           m.request_signature,
                           m.response_digest,
                           m.response_signature,
                           static_cast<std::int64_t>(m.status),
                           m.body ? db::Value(*m.body) : db::Value(),
                           m.prev_hash,
                           m.hash};
  DZONG_TRY(c.Execute(std::string("INSERT INTO exchange_messages (") + kColumns +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      row));
  const db::Value moved[] = {m.hash};
  DZONG_TRY(c.Execute("UPDATE exchange_message_head SET hash = ? WHERE id = 1", moved));
  return {};
}

bool NonceRegister::Claim(const std::string& client, const std::string& nonce,
                          std::chrono::system_clock::time_point now) {
  std::string key = client + ' ' + nonce;
  std::lock_guard lock(mutex_);
  while (!order_.empty() && order_.front().first < now - kNonceLifetime) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
  if (!seen_.insert(key).second) return false;
  order_.emplace_back(now, std::move(key));
  return true;
}

void NonceRegister::Release(const std::string& client, const std::string& nonce) {
  std::lock_guard lock(mutex_);
  seen_.erase(client + ' ' + nonce);
}

std::size_t NonceRegister::size() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

Status ExchangeService::LogMessage(db::Connection& c, const Message& m) {
  std::call_once(nonces_loaded_, [&] {
    // The nonces answered within their lifetime before this start.
    const auto now = clock_.Now();
    const db::Value from[] = {FormatUtc(now - kNonceLifetime)};
    nonces_load_ = c.QueryEach("SELECT client, nonce, at FROM exchange_messages WHERE at >= ? ORDER BY seq", from,
                               [&](const db::RowView& r) {
                                 nonces_.Claim(std::string(r.Text(0)), std::string(r.Text(1)), now);
                                 return true;
                               });
  });
  DZONG_TRY(nonces_load_);
  if (!nonces_.Claim(m.client, m.nonce, clock_.Now())) {
    return Error(errc::kReplayed, "this signed request was already answered: sign each request anew");
  }
  Status recorded = RecordMessage(c, m, clock_);
  if (!recorded.ok()) nonces_.Release(m.client, m.nonce);
  return recorded;
}

Result<std::vector<Message>> Messages(db::Database& db, const MessageFilter& filter) {
  std::string where = "1 = 1";
  std::vector<db::Value> params;
  if (!filter.client.empty()) {
    where += " AND client = ?";
    params.emplace_back(filter.client);
  }
  params.emplace_back(filter.limit);
  return db.ReadValue<std::vector<Message>>([&](db::Connection& c) -> Result<std::vector<Message>> {
    std::vector<Message> out;
    DZONG_TRY(c.QueryEach(std::string("SELECT ") + kColumns + " FROM exchange_messages WHERE " + where +
                              " ORDER BY seq DESC LIMIT ?",
                          params, [&](const db::RowView& r) {
                            out.push_back(FromRow(r));
                            return true;
                          }));
    return out;
  });
}

Result<MessageLogReport> VerifyMessageLog(db::Database& db) {
  return db.ReadValue<MessageLogReport>([&](db::Connection& c) -> Result<MessageLogReport> {
    MessageLogReport report;
    std::string prev = kGenesis;
    std::int64_t expected = 1;
    DZONG_TRY(c.QueryEach(std::string("SELECT ") + kColumns + " FROM exchange_messages ORDER BY seq", {},
                          [&](const db::RowView& r) {
                            const Message m = FromRow(r);
                            if (m.seq != expected) {
                              report.broken_at = expected;
                              report.detail = fmt::format("message {} is missing", expected);
                            } else if (m.prev_hash != prev) {
                              report.broken_at = m.seq;
                              report.detail = fmt::format("message {} does not follow the one before it", m.seq);
                            } else if (Sha256Hex(MessageCanonical(m)) != m.hash) {
                              report.broken_at = m.seq;
                              report.detail = fmt::format("message {} was changed after it was written", m.seq);
                            }
                            prev = m.hash;
                            expected = m.seq + 1;
                            ++report.messages;
                            return !report.broken_at;
                          }));
    if (report.broken_at) return report;
    DZONG_ASSIGN_OR_RETURN(db::Rows head, c.Query("SELECT seq, hash FROM exchange_message_head WHERE id = 1"));
    if (head.empty() || head[0].Int(0) != expected - 1 || head[0].Text(1) != prev) {
      report.broken_at = expected;
      report.detail = fmt::format("the log ends at message {}, but its head says {}", expected - 1,
                                  head.empty() ? 0 : head[0].Int(0));
    }
    return report;
  });
}

}  // namespace dzong::exchange
