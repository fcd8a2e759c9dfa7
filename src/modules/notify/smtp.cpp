// A small SMTP client (RFC 5321) for the platform's own mail: one message
// per connection, plain TCP to the relay the operator configures (a local
// MTA that handles TLS and onward delivery).
#include <charconv>
#include <chrono>
#include <ctime>
#include <initializer_list>
#include <optional>

#include <fmt/format.h>

#include "base/crypto.h"
#include "modules/notify/net.h"
#include "modules/notify/transport.h"

namespace dzong::notify {
namespace {

struct Reply {
  int code = 0;
  std::string text;
};

/// Reads one reply, with its continuation lines ("250-…" until "250 …").
Result<Reply> ReadReply(TcpStream& s) {
  Reply reply;
  for (;;) {
    DZONG_ASSIGN_OR_RETURN(std::string line, s.ReadLine());
    int code = 0;
    if (line.size() < 3 || std::from_chars(line.data(), line.data() + 3, code).ec != std::errc()) {
      return Error("notify.bad_reply", fmt::format("the mail server sent something that is not a reply: {}",
                                                   line.substr(0, 80)));
    }
    if (!reply.text.empty()) reply.text += ' ';
    reply.text += line.size() > 4 ? line.substr(4) : std::string();
    reply.code = code;
    if (line.size() == 3 || line[3] == ' ') return reply;
    if (line[3] != '-') return Error("notify.bad_reply", "the mail server's reply is malformed: " + line.substr(0, 80));
  }
}

Attempt FromReply(const Reply& r, std::string_view step) {
  const std::string detail = fmt::format("the mail server answered {} {} to {}", r.code, r.text, step);
  if (r.code >= 500 && r.code < 600) return {Attempt::kPermanent, detail};
  return {Attempt::kRetry, detail};
}

/// The domain of the sender's address, for the Message-ID.
std::string DomainOf(const std::string& address) {
  const auto at = address.rfind('@');
  return at == std::string::npos ? std::string("dzong.localhost") : address.substr(at + 1);
}

std::string WrapBase64(std::string_view bytes) {
  const std::string encoded = Base64Encode(bytes);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out += encoded.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string MailDate(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000", kDays[utc.tm_wday], utc.tm_mday,
                     kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string EncodeHeaderText(std::string_view text) {
  bool plain = text.find("=?") == std::string_view::npos;
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f) plain = false;
  }
  if (plain) return std::string(text);
  // 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and "?=", 72 in
  // all. A word ends on a character boundary, never inside a UTF-8 sequence.
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + 45);
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string DotStuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 16);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += c;
    line_start = c == '\n';
  }
  return out;
}

std::string FormatMail(const MailServer& server, const Mail& mail, std::chrono::system_clock::time_point now,
                       const std::string& message_id) {
  std::string body;
  for (char c : mail.body) {
    if (c == '\n') body += '\r';
    body += c;
  }
  std::string out;
  out += "From: Dzong <" + server.from + ">\r\n";
  out += "To: <" + mail.to + ">\r\n";
  out += "Subject: " + EncodeHeaderText(mail.subject) + "\r\n";
  out += "Date: " + MailDate(now) + "\r\n";
  out += "Message-ID: <" + message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  out += WrapBase64(body);
  return out;
}

Attempt SendMail(const MailServer& server, const Mail& mail, std::chrono::system_clock::time_point now) {
  TcpStream s;
  if (Status c = s.Connect(server.host, std::to_string(server.port), server.timeout); !c.ok()) {
    return {Attempt::kRetry, fmt::format("the mail server {}:{} is unreachable: {}", server.host, server.port,
                                         c.error().message)};
  }
  // Each step: a command (none for the greeting), the replies it accepts.
  const auto step = [&](const std::string& command, std::string_view name, std::initializer_list<int> ok,
                        Reply* got = nullptr) -> std::optional<Attempt> {
    if (!command.empty()) {
      if (Status sent = s.Send(command); !sent.ok()) {
        return Attempt{Attempt::kRetry, fmt::format("sending {}: {}", name, sent.error().message)};
      }
    }
    auto reply = ReadReply(s);
    if (!reply.ok()) return Attempt{Attempt::kRetry, fmt::format("waiting for the reply to {}: {}", name, reply.error().message)};
    if (got) *got = *reply;
    for (int code : ok) {
      if (reply->code == code) return std::nullopt;
    }
    return FromReply(*reply, name);
  };
  const std::string helo = server.helo_name.empty() ? std::string("localhost") : server.helo_name;
  if (auto failed = step("", "the greeting", {220})) return *failed;
  Reply ehlo;
  if (auto failed = step("EHLO " + helo + "\r\n", "EHLO", {250}, &ehlo)) {
    // A server that does not know EHLO (500, 502) is greeted the old way.
    if (ehlo.code != 500 && ehlo.code != 502) return *failed;
    if (auto again = step("HELO " + helo + "\r\n", "HELO", {250})) return *again;
  }
  if (auto failed = step("MAIL FROM:<" + server.from + ">\r\n", "MAIL FROM", {250})) return *failed;
  if (auto failed = step("RCPT TO:<" + mail.to + ">\r\n", "RCPT TO", {250, 251})) return *failed;
  if (auto failed = step("DATA\r\n", "DATA", {354})) return *failed;
  const std::string message_id = RandomHex(16) + "@" + DomainOf(server.from);
  std::string data = DotStuff(FormatMail(server, mail, now, message_id));
  if (!data.ends_with("\r\n")) data += "\r\n";
  data += ".\r\n";
  Reply accepted;
  if (auto failed = step(data, "the end of the message", {250}, &accepted)) return *failed;
  // The message is the server's now; how QUIT goes changes nothing.
  (void)step("QUIT\r\n", "QUIT", {221});
  return {Attempt::kSent, fmt::format("{} {}", accepted.code, accepted.text)};
}

}  // namespace dzong::notify
