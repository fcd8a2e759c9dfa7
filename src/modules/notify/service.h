#pragma once
// The notify module as src/main/ wires it: the settings of the mail server
// and SMS gateway, the service behind the pages and the sender, the
// sender's thread, and the pages. Other modules use notify.h only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "db/database.h"
#include "modules/audit/audit.h"
#include "modules/notify/notify.h"

namespace dzong::http {
class Router;
}
namespace dzong::web {
class Web;
}

namespace dzong::notify {

struct Settings {
  std::string smtp_host;        ///< empty: no mail is sent
  std::uint16_t smtp_port = 25;
  std::string mail_from;        ///< the envelope sender and From: address
  std::string sms_url;          ///< empty: no SMS is sent; http://host[:port]/path
  std::string sms_token;        ///< the gateway's bearer token
  std::string site_url;         ///< the address links in messages start with, e.g. https://dzong.gov.bt
  /// How often the server's sender looks for due notices; 0: it does not
  /// (`dzong notify send-due` then sends).
  std::chrono::milliseconds poll_interval{5'000};
  std::chrono::milliseconds timeout{30'000};  ///< longest wait for the mail server or the gateway
  /// Waits after each failed attempt; one attempt more than waits, then the
  /// failure is permanent.
  std::vector<std::chrono::seconds> backoff = {std::chrono::minutes(1), std::chrono::minutes(5),
                                               std::chrono::minutes(30), std::chrono::hours(2),
                                               std::chrono::hours(12)};
  bool Mail() const { return !smtp_host.empty() && !mail_from.empty(); }
  bool Sms() const { return !sms_url.empty(); }
};

struct Contact {
  std::string email;
  std::string mobile;    ///< +975 and eight digits
  std::string language;  ///< the language of their messages: en, dz, or empty (the account's)
  std::string updated_at;
};

/// A notice as its reader sees it, in their language.
struct Shown {
  std::int64_t id = 0;
  std::string template_id;
  std::string subject;
  std::string body;
  std::string channel;
  std::string recipient;
  std::string application;
  std::string path;    ///< the platform page it is about (its `path` param), or empty
  std::string status;  ///< pending, sent, failed
  std::int64_t attempts = 0;
  std::string reason;  ///< why it failed
  std::string created_at;
  std::string failed_at;
};

/// What one round of the sender did.
struct SendReport {
  int notices = 0;  ///< notices taken up
  int sent = 0;     ///< deliveries that went out
  int retry = 0;    ///< deliveries that will be tried again
  int failed = 0;   ///< deliveries (or notices without any address) that failed for good
};

class NotifyService {
 public:
  NotifyService(db::Database& db, const Clock& clock, Settings settings);

  const Settings& settings() const { return settings_; }

  /// The person's contact details (empty when they gave none).
  Result<Contact> GetContact(const std::string& username);
  /// Sets all three (an empty address is removed). Errors: request.invalid
  /// naming each field (email, mobile, language) and its rule; nothing
  /// changes then.
  Result<Contact> SetContact(const std::string& username, const Contact& contact, const audit::Actor& actor);

  /// Notices to the account, and to the organisation for its officers,
  /// newest first, in `language` (a password reset without its link).
  Result<std::vector<Shown>> Inbox(const std::string& username, const std::optional<std::string>& officer_of,
                                   const std::string& language);
  /// Notices about the organisation's applications that failed for good.
  Result<std::vector<Shown>> Failed(const std::string& organisation, const std::string& language);
  /// Puts a failed notice back to pending. Errors: notify.not_found (not
  /// one the organisation answers for), notify.not_failed.
  Status TryAgain(std::int64_t id, const std::string& organisation, const audit::Actor& actor);

  /// One round: takes up the due notices and delivers what is due, by the
  /// channels configured. With neither, does nothing: notices stay pending.
  /// `stopping`, when given, is asked between notices (the server stops).
  Result<SendReport> SendDue(std::chrono::system_clock::time_point now,
                             const std::function<bool()>& stopping = {});

  /// Demo contact details for the demo accounts (`dzong seed --demo`), for
  /// those that have none. Returns how many were added.
  Result<int> SeedDemoContacts();

 private:
  /// Delivers what is due of one notice this sender has taken up.
  Status Deliver(std::int64_t id, std::chrono::system_clock::time_point now, SendReport& report);

  db::Database& db_;
  const Clock& clock_;
  Settings settings_;
};

/// The server's sender: a thread that runs SendDue every poll interval until
/// it is destroyed (the server's shutdown), finishing the delivery under way.
class Sender {
 public:
  Sender(NotifyService& service, const Clock& clock, std::chrono::milliseconds interval,
         std::function<void(const Error&)> on_error);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// /my/notifications, /account/contact, /notifications/failed and its
/// try-again button.
Status AddPages(http::Router& router, NotifyService& service, web::Web& web);

}  // namespace dzong::notify
