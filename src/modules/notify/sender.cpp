// The sender: takes up due notices, turns each into deliveries (an email,
// an SMS; one per address), sends what is due, and records what happened.
// A passing failure is tried again after a growing wait; after the last
// attempt, or a refusal, the delivery has failed for good, with the reason.
//
// Several server processes may share one PostgreSQL database: a notice is
// claimed (its next attempt moved past the time a round can take) in a
// transaction before anything is sent, so only one sender works on it.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "modules/notify/contact.h"
#include "modules/notify/service.h"
#include "modules/notify/store.h"
#include "modules/notify/templates.h"
#include "modules/notify/transport.h"

namespace dzong::notify {
namespace {

constexpr char kNoContact[] = "no email or mobile number on record";
constexpr int kBatch = 50;
/// How long to wait before looking again at a notice whose addresses need a
/// channel this server has not configured.
constexpr auto kUnconfiguredWait = std::chrono::minutes(5);

std::string Language(const std::optional<std::string>& notice, const store::ContactRow* contact,
                     const std::string& account) {
  if (notice && (*notice == "en" || *notice == "dz")) return *notice;
  if (contact && !contact->language.empty()) return contact->language;
  return account == "dz" ? "dz" : "en";
}

}  // namespace

Result<SendReport> NotifyService::SendDue(std::chrono::system_clock::time_point now,
                                          const std::function<bool()>& stopping) {
  SendReport report;
  if (!settings_.Mail() && !settings_.Sms()) return report;
  const std::string at = FormatUtc(now);
  // Long enough for every delivery of a round to time out once.
  const auto lease = std::max<std::chrono::milliseconds>(settings_.timeout * 8, std::chrono::minutes(5));
  const std::string until = FormatUtc(now + lease);
  DZONG_ASSIGN_OR_RETURN(auto claimed, db_.WriteValue<std::vector<std::int64_t>>(
                                           [&](db::Connection& c) -> Result<std::vector<std::int64_t>> {
                                             DZONG_ASSIGN_OR_RETURN(auto due, store::DueNotices(c, at, kBatch));
                                             std::vector<std::int64_t> mine;
                                             for (std::int64_t id : due) {
                                               DZONG_ASSIGN_OR_RETURN(bool taken, store::Claim(c, id, at, until));
                                               if (taken) mine.push_back(id);
                                             }
                                             return mine;
                                           }));
  for (std::int64_t id : claimed) {
    // What is left stays claimed until the claim runs out, then is due again.
    if (stopping && stopping()) break;
    ++report.notices;
    DZONG_TRY(Deliver(id, now, report));
  }
  return report;
}

Status NotifyService::Deliver(std::int64_t id, std::chrono::system_clock::time_point now, SendReport& report) {
  const std::string at = FormatUtc(now);
  struct Loaded {
    store::NoticeRow notice;
    std::vector<store::DeliveryRow> deliveries;
  };
  DZONG_ASSIGN_OR_RETURN(Loaded loaded, db_.ReadValue<Loaded>([&](db::Connection& c) -> Result<Loaded> {
                           DZONG_ASSIGN_OR_RETURN(auto notice, store::FindNotice(c, id));
                           if (!notice) return Error(errc::kNotFound, fmt::format("notice {} is gone", id));
                           DZONG_ASSIGN_OR_RETURN(auto deliveries, store::Deliveries(c, id));
                           return Loaded{std::move(*notice), std::move(deliveries)};
                         }));
  const store::NoticeRow& notice = loaded.notice;
  const auto fail_notice = [&](const std::string& reason) -> Status {
    ++report.failed;
    return db_.Write([&](db::Connection& c) {
      return store::UpdateNotice(c, id, "failed", notice.attempts, std::nullopt, reason, std::nullopt, at);
    });
  };
  const Template* t = FindTemplate(notice.template_id);
  if (!t) return fail_notice(fmt::format("there is no notice template '{}'", notice.template_id));

  // The first time: the addresses it goes to, from the contact details now.
  if (loaded.deliveries.empty()) {
    std::vector<store::DeliveryRow> made;
    bool any_contact = false;
    const auto add = [&](const std::optional<std::string>& account, const std::string& medium,
                         const std::string& address, const std::string& language) {
      any_contact = true;
      if ((medium == "email" && !settings_.Mail()) || (medium == "sms" && !settings_.Sms())) return;
      store::DeliveryRow d;
      d.notice_id = id;
      d.account = account;
      d.medium = medium;
      d.address = address;
      d.language = language;
      made.push_back(std::move(d));
    };
    std::string missing = kNoContact;
    Status expanded = db_.Read([&](db::Connection& c) -> Status {
      std::vector<store::AccountRow> people;
      if (notice.channel == "account") {
        DZONG_ASSIGN_OR_RETURN(auto account, store::FindAccount(c, notice.recipient));
        if (!account) {
          missing = fmt::format("there is no account '{}'", notice.recipient);
          return {};
        }
        people.push_back(*account);
      } else if (notice.channel == "organisation") {
        DZONG_ASSIGN_OR_RETURN(people, store::Officers(c, notice.recipient));
        missing = fmt::format("no officer of {} has an email or mobile number on record", notice.recipient);
      } else if (notice.channel == "email") {
        add(std::nullopt, "email", notice.recipient, Language(notice.language, nullptr, ""));
      } else if (notice.channel == "sms") {
        add(std::nullopt, "sms", NormaliseMobile(notice.recipient).value_or(notice.recipient),
            Language(notice.language, nullptr, ""));
      } else {
        missing = fmt::format("'{}' is not a channel notices go by", notice.channel);
      }
      for (const store::AccountRow& person : people) {
        DZONG_ASSIGN_OR_RETURN(auto contact, store::FindContact(c, person.username));
        if (!contact) continue;
        const std::string language = Language(notice.language, &*contact, person.language);
        if (!contact->email.empty()) add(person.username, "email", contact->email, language);
        if (!contact->mobile.empty()) add(person.username, "sms", contact->mobile, language);
      }
      return {};
    });
    DZONG_TRY(expanded);
    if (!any_contact) return fail_notice(missing);
    if (made.empty()) {
      // Reachable only by a channel this server does not send by: later, or by another server.
      return db_.Write([&](db::Connection& c) {
        return store::UpdateNotice(c, id, "pending", notice.attempts, FormatUtc(now + kUnconfiguredWait),
                                   notice.last_error, std::nullopt, std::nullopt);
      });
    }
    DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
      for (const auto& d : made) DZONG_TRY(store::InsertDelivery(c, d));
      return {};
    }));
    DZONG_ASSIGN_OR_RETURN(loaded.deliveries, db_.ReadValue<std::vector<store::DeliveryRow>>(
                                                  [&](db::Connection& c) { return store::Deliveries(c, id); }));
  }

  const nlohmann::json parsed = nlohmann::json::parse(notice.payload, nullptr, false);
  const nlohmann::json params = parsed.is_object() ? parsed : nlohmann::json::object();
  MailServer mail;
  mail.host = settings_.smtp_host;
  mail.port = settings_.smtp_port;
  mail.from = settings_.mail_from;
  mail.timeout = settings_.timeout;
  const auto at_sign = settings_.mail_from.rfind('@');
  mail.helo_name = at_sign == std::string::npos ? "localhost" : settings_.mail_from.substr(at_sign + 1);
  SmsGateway sms{settings_.sms_url, settings_.sms_token, settings_.timeout};

  for (store::DeliveryRow& d : loaded.deliveries) {
    if (d.status != "pending" || (d.next_attempt_at && *d.next_attempt_at > at)) continue;
    const bool configured = d.medium == "email" ? settings_.Mail() : settings_.Sms();
    if (!configured) continue;
    const Text text = Render(*t, d.language, params, settings_.site_url);
    const Attempt attempt = d.medium == "email" ? SendMail(mail, Mail{d.address, text.subject, text.body}, now)
                                                : SendSms(sms, d.address, text.sms);
    ++d.attempts;
    std::optional<std::string> sent_at;
    const std::string where = fmt::format("{} to {}", d.medium == "email" ? "email" : "SMS", d.address);
    if (attempt.kind == Attempt::kSent) {
      d.status = "sent";
      d.next_attempt_at.reset();
      d.last_error.reset();
      sent_at = at;
      ++report.sent;
    } else if (attempt.kind == Attempt::kPermanent) {
      d.status = "failed";
      d.next_attempt_at.reset();
      d.last_error = fmt::format("{}: {}", where, attempt.detail);
      ++report.failed;
    } else if (static_cast<std::size_t>(d.attempts) > settings_.backoff.size()) {
      d.status = "failed";
      d.next_attempt_at.reset();
      d.last_error = fmt::format("{}: gave up after {} attempts; the last: {}", where, d.attempts, attempt.detail);
      ++report.failed;
    } else {
      d.next_attempt_at = FormatUtc(now + settings_.backoff[static_cast<std::size_t>(d.attempts) - 1]);
      d.last_error = fmt::format("{}: {}", where, attempt.detail);
      ++report.retry;
    }
    DZONG_TRY(db_.Write([&](db::Connection& c) { return store::UpdateDelivery(c, d, sent_at); }));
  }

  // The notice as its deliveries left it.
  std::int64_t attempts = 0;
  std::optional<std::string> next, last_error, failures;
  bool pending = false;
  bool failed = false;
  for (const store::DeliveryRow& d : loaded.deliveries) {
    attempts = std::max(attempts, d.attempts);
    if (d.status == "pending") {
      pending = true;
      const bool configured = d.medium == "email" ? settings_.Mail() : settings_.Sms();
      const std::string when = !configured ? FormatUtc(now + kUnconfiguredWait) : d.next_attempt_at.value_or(at);
      if (!next || when < *next) next = when;
      if (d.last_error) last_error = d.last_error;
    } else if (d.status == "failed") {
      failed = true;
      failures = failures ? *failures + "; " + d.last_error.value_or("") : d.last_error.value_or("");
    }
  }
  return db_.Write([&](db::Connection& c) {
    if (pending) return store::UpdateNotice(c, id, "pending", attempts, next, failures ? failures : last_error,
                                            std::nullopt, std::nullopt);
    if (failed) return store::UpdateNotice(c, id, "failed", attempts, std::nullopt, failures, std::nullopt, at);
    return store::UpdateNotice(c, id, "sent", attempts, std::nullopt, std::nullopt, at, std::nullopt);
  });
}

// ---------------------------------------------------------------- thread

struct Sender::State {
  State(NotifyService& s, const Clock& c, std::chrono::milliseconds i, std::function<void(const Error&)> f)
      : service(s), clock(c), interval(i), on_error(std::move(f)) {}
  NotifyService& service;
  const Clock& clock;
  std::chrono::milliseconds interval;
  std::function<void(const Error&)> on_error;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

Sender::Sender(NotifyService& service, const Clock& clock, std::chrono::milliseconds interval,
               std::function<void(const Error&)> on_error)
    : state_(std::make_unique<State>(service, clock, interval, std::move(on_error))) {
  state_->thread = std::thread([this] {
    State& s = *state_;
    std::unique_lock lock(s.mutex);
    while (!s.stopping) {
      s.wake.wait_for(lock, s.interval, [&s] { return s.stopping; });
      if (s.stopping) break;
      lock.unlock();
      Result<SendReport> round = s.service.SendDue(s.clock.Now(), [&s] {
        std::lock_guard stop_lock(s.mutex);
        return s.stopping;
      });
      if (!round.ok() && s.on_error) s.on_error(round.error());
      lock.lock();
    }
  });
}

Sender::~Sender() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

}  // namespace dzong::notify
