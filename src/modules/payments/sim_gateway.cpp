// The simulated gateway built into the server: its ledger, the signed
// callbacks it posts, and its payment page.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "http/client.h"
#include "http/router.h"
#include "modules/payments/payments.h"
#include "web/web.h"

namespace dzong::payments {

using nlohmann::json;

/// Posts callbacks from a thread of its own, as a gateway's notifier would:
/// never from the thread serving the citizen's request.
struct SimulatedGateway::Delivery {
  struct Item {
    std::string url, body, signature;
  };
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Item> queue;
  bool stopping = false;
  std::thread thread;

  Delivery() : thread([this] { Run(); }) {}
  ~Delivery() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    thread.join();
  }

  void Push(Item item) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(std::move(item));
    }
    wake.notify_all();
  }

  void Run() {
    std::unique_lock lock(mutex);
    while (true) {
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) return;
      Item item = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      Send(item);
      lock.lock();
    }
  }

  void Send(const Item& item) {
    // "http://host:port/path": the origin, then the target.
    const auto path_at = item.url.find('/', item.url.find("://") == std::string::npos ? 0 : item.url.find("://") + 3);
    const std::string base = path_at == std::string::npos ? item.url : item.url.substr(0, path_at);
    const std::string target = path_at == std::string::npos ? "/" : item.url.substr(path_at);
    auto origin = http::ParseOrigin(base);
    if (!origin.ok()) return;
    for (int attempt = 0; attempt < 5; ++attempt) {
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
      }
      auto answer = http::Fetch(*origin, "POST", target,
                                {{"Content-Type", "application/json"}, {"X-Payment-Signature", item.signature}},
                                item.body);
      if (answer.ok() && answer->status < 500) return;
      std::unique_lock lock(mutex);
      if (wake.wait_for(lock, std::chrono::milliseconds(200 << attempt), [this] { return stopping; })) return;
    }
  }
};

SimulatedGateway::SimulatedGateway(db::Database& db, const Clock& clock, std::string secret, bool send_callbacks)
    : db_(db), clock_(clock), secret_(std::move(secret)), send_callbacks_(send_callbacks),
      delivery_(std::make_unique<Delivery>()) {}

SimulatedGateway::~SimulatedGateway() = default;

namespace {

constexpr char kColumns[] =
    "token, transaction_id, payment_reference, merchant_code, merchant_name, description, callback_url, return_url, "
    "status, amount";

SimulatedGateway::Transaction FromRow(const db::Row& row) {
  SimulatedGateway::Transaction t;
  t.token = row.Text(0);
  t.transaction_id = row.Text(1);
  t.payment_reference = row.Text(2);
  t.merchant_code = row.Text(3);
  t.merchant_name = row.Text(4);
  t.description = row.Text(5);
  t.callback_url = row.Text(6);
  t.return_url = row.Text(7);
  t.status = row.Text(8);
  t.amount = row.Int(9);
  return t;
}

}  // namespace

Result<GatewayStart> SimulatedGateway::Start(const GatewayRequest& request) {
  GatewayStart start;
  const std::string token = RandomHex(16);
  start.transaction_id = "SIM-" + RandomHex(8);
  start.redirect_url = "/payment-gateway/sim/" + token;
  const std::string now = FormatUtc(clock_.Now());
  Status stored = db_.Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {token,           start.transaction_id, request.payment_reference, request.merchant_code,
                             request.merchant_name, request.amount, request.description,       request.callback_url,
                             request.return_url,    now,            now};
    DZONG_TRY(c.Execute("INSERT INTO payment_sim_transactions (token, transaction_id, payment_reference, "
                        "merchant_code, merchant_name, amount, description, callback_url, return_url, status, "
                        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
                        row));
    return {};
  });
  if (!stored.ok()) return Error(errc::kGatewayFailed, "the payment gateway could not take the payment: " + stored.error().message);
  return start;
}

std::pair<std::string, std::string> SimulatedGateway::SignedCallback(const Transaction& t) const {
  // nlohmann::json orders an object's members by name and writes no spaces:
  // the body is canonical, and the signature covers exactly these bytes.
  const std::string body = json{{"amount", t.amount},
                                {"reference", t.payment_reference},
                                {"status", t.status},
                                {"transaction", t.transaction_id}}
                               .dump();
  return {body, HmacSha256Hex(secret_, body)};
}

Result<GatewayOutcome> SimulatedGateway::Verify(const http::Request& callback) {
  const std::string signature(callback.HeaderValue("X-Payment-Signature"));
  if (signature.empty()) return Error(errc::kBadSignature, "the callback carries no X-Payment-Signature");
  if (!ConstantTimeEquals(signature, HmacSha256Hex(secret_, callback.body))) {
    return Error(errc::kBadSignature, "the callback's signature does not match its body");
  }
  const json body = json::parse(callback.body, nullptr, false);
  if (!body.is_object() || !body.contains("reference") || !body["reference"].is_string() ||
      !body.contains("transaction") || !body["transaction"].is_string() || !body.contains("status") ||
      !body["status"].is_string() || !body.contains("amount") || !body["amount"].is_number_integer()) {
    return Error(errc::kBadSignature, "the callback's body is not a gateway outcome");
  }
  GatewayOutcome outcome;
  outcome.payment_reference = body["reference"].get<std::string>();
  outcome.transaction_id = body["transaction"].get<std::string>();
  outcome.status = body["status"].get<std::string>();
  outcome.amount = body["amount"].get<std::int64_t>();
  return outcome;
}

Result<GatewayOutcome> SimulatedGateway::Query(const std::string& transaction_id) {
  return db_.ReadValue<GatewayOutcome>([&](db::Connection& c) -> Result<GatewayOutcome> {
    const db::Value key[] = {transaction_id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM payment_sim_transactions WHERE "
                                                              "transaction_id = ?",
                                                              kColumns),
                                                  key));
    if (rows.empty()) return Error(errc::kNotFound, "the gateway knows no such transaction");
    const Transaction t = FromRow(rows.front());
    return GatewayOutcome{t.payment_reference, t.transaction_id, t.status, t.amount};
  });
}

Status SimulatedGateway::Refund(const std::string& transaction_id, std::int64_t amount, const std::string&) {
  const std::string now = FormatUtc(clock_.Now());
  return db_.Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {now, transaction_id, amount};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE payment_sim_transactions SET status = 'refunded', updated_at = ? "
                                     "WHERE transaction_id = ? AND amount = ? AND status IN ('succeeded', 'refunded')",
                                     row));
    if (changed != 1) return Error(errc::kGatewayFailed, "the gateway holds no succeeded payment of that amount to refund");
    return {};
  });
}

Result<SimulatedGateway::Transaction> SimulatedGateway::Find(const std::string& token) {
  return db_.ReadValue<Transaction>([&](db::Connection& c) -> Result<Transaction> {
    const db::Value key[] = {token};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(fmt::format("SELECT {} FROM payment_sim_transactions WHERE token = ?", kColumns), key));
    if (rows.empty()) return Error(errc::kNotFound, "no such payment at this gateway");
    return FromRow(rows.front());
  });
}

Result<std::string> SimulatedGateway::Decide(const std::string& token, const std::string& choice) {
  std::string status;
  if (choice == "pay") {
    status = "succeeded";
  } else if (choice == "decline") {
    status = "failed";
  } else if (choice == "cancel") {
    status = "cancelled";
  } else if (choice == "pending") {
    status = "pending";
  } else {
    return Invalid({{"choice", "one_of", "choice must be pay, decline, cancel or pending"}});
  }
  const std::string now = FormatUtc(clock_.Now());
  bool changed = false;
  auto decided = db_.WriteValue<Transaction>([&](db::Connection& c) -> Result<Transaction> {
    const db::Value key[] = {token};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(fmt::format("SELECT {} FROM payment_sim_transactions WHERE token = ?", kColumns), key));
    if (rows.empty()) return Error(errc::kNotFound, "no such payment at this gateway");
    Transaction t = FromRow(rows.front());
    // Decided payments stay as they are; a pending one may still be decided.
    if ((t.status == "open" || t.status == "pending") && t.status != status) {
      const db::Value row[] = {status, now, token};
      DZONG_TRY(c.Execute("UPDATE payment_sim_transactions SET status = ?, updated_at = ? WHERE token = ?", row));
      t.status = status;
      changed = true;
    }
    return t;
  });
  if (!decided.ok()) return std::move(decided).error();
  if (changed && send_callbacks_) {
    auto [body, signature] = SignedCallback(*decided);
    delivery_->Push({decided->callback_url, std::move(body), std::move(signature)});
  }
  return decided->return_url;
}

namespace {

using http::Request;
using http::Response;

json PageContext(const SimulatedGateway::Transaction& t) {
  const bool open = t.status == "open" || t.status == "pending";
  return json{{"token", t.token},
              {"merchant", t.merchant_name},
              {"merchant_code", t.merchant_code},
              {"amount", FormatNu(t.amount)},
              {"description", t.description},
              {"reference", t.payment_reference},
              {"transaction", t.transaction_id},
              {"open", open},
              {"is_pending", t.status == "pending"},
              {"return_url", t.return_url}};
}

}  // namespace

Status AddSimulatedGatewayPages(http::Router& router, SimulatedGateway& gateway, web::Web& web) {
  DZONG_TRY(router.Add({"GET", "/payment-gateway/sim/{token}", http::kPublic, http::kNoAuditEvent,
                        [&gateway, &web](const Request& r, const http::PathParams& p) {
                          auto t = gateway.Find(p.at("token"));
                          if (!t.ok()) return web.ErrorPage(r, t.error(), 404);
                          return web.Page(r, "pay_sim_gateway", "pay_sim_title", PageContext(*t));
                        },
                        "the simulated payment gateway's page: merchant, amount, pay, decline, cancel or leave pending"}));
  DZONG_TRY(router.Add({"POST", "/payment-gateway/sim/{token}", http::kPublic, "payments.sim_gateway_answered",
                        [&gateway, &web](const Request& r, const http::PathParams& p) {
                          auto form = web.ReadForm(r);
                          if (!form.ok()) return web.ErrorPage(r, form.error(), 400);
                          auto t = gateway.Find(p.at("token"));
                          if (!t.ok()) return web.ErrorPage(r, t.error(), 404);
                          const auto choice = form->find("choice");
                          auto back = gateway.Decide(p.at("token"), choice == form->end() ? "" : choice->second);
                          if (!back.ok()) {
                            if (back.error().code == dzong::errc::kValidation) {
                              return web.ShowProblems(r, "pay_sim_gateway", "pay_sim_title", PageContext(*t),
                                                      {{"choice-pay", "required", web.Text(r, "pay_sim_problem_choice")}});
                            }
                            return web.ErrorPage(r, back.error(), 500);
                          }
                          return web::Web::Redirect(*back);
                        },
                        "the citizen's choice at the simulated gateway; its signed callback follows"}));
  return {};
}

}  // namespace dzong::payments
