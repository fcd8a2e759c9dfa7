#pragma once
// The two ways a notice leaves the platform (internal to the module): mail
// over SMTP to a configured server, and SMS through an HTTP gateway.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dzong::notify {

/// What one attempt to deliver found.
struct Attempt {
  enum Kind {
    kSent,       ///< the server or gateway took it
    kRetry,      ///< a passing problem (4xx, no connection, timeout): try again later
    kPermanent,  ///< refused for good (5xx, the gateway rejected the request)
  } kind = kRetry;
  std::string detail;  ///< what the server said, for the record
};

struct MailServer {
  std::string host;
  std::uint16_t port = 25;
  std::string from;       ///< the envelope sender and From: address
  std::string helo_name;  ///< the name given in EHLO
  std::chrono::milliseconds timeout{30'000};
};

struct Mail {
  std::string to;
  std::string subject;  ///< UTF-8
  std::string body;     ///< UTF-8 text, lines separated by \n
};

/// Sends one message: EHLO (HELO when EHLO is refused), MAIL FROM, RCPT TO,
/// DATA, QUIT, checking every reply code.
Attempt SendMail(const MailServer& server, const Mail& mail, std::chrono::system_clock::time_point now);

/// The message as it goes after DATA (before dot-stuffing): headers with the
/// subject RFC 2047-encoded, a base64 text/plain UTF-8 body, CRLF lines.
std::string FormatMail(const MailServer& server, const Mail& mail, std::chrono::system_clock::time_point now,
                       const std::string& message_id);
/// "=?UTF-8?B?…?=" words of at most 75 characters, folded, for a header
/// value that is not plain ASCII; plain ASCII as it is.
std::string EncodeHeaderText(std::string_view text);
/// A line that starts with '.' gets another (RFC 5321 4.5.2); CRLF lines.
std::string DotStuff(std::string_view message);
/// RFC 5322 date: "Mon, 30 Nov 2026 02:38:58 +0000".
std::string MailDate(std::chrono::system_clock::time_point t);

struct SmsGateway {
  std::string url;    ///< http://host[:port]/path
  std::string token;  ///< sent as a bearer token
  std::chrono::milliseconds timeout{30'000};
};

/// POSTs {"to": "+975…", "text": "…"} as JSON. 2xx is sent; 408, 429 and
/// 5xx are passing; other answers are refusals.
Attempt SendSms(const SmsGateway& gateway, const std::string& to, const std::string& text);

}  // namespace dzong::notify
