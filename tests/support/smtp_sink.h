#pragma once
// A local SMTP server for the tests: it speaks enough of RFC 5321 to take
// messages from the platform's sender, records each envelope and its data,
// and answers RCPT TO with the codes a test asks for (451 to make the
// sender try again, 550 to refuse for good).

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "support/loopback_listener.h"

namespace dzong::testing {

class SmtpSink {
 public:
  struct Message {
    std::string helo;
    std::string mail_from;
    std::vector<std::string> rcpt_to;
    std::string data;  ///< as received after DATA, dot-stuffing undone, CRLF lines

    /// A header's value, folded lines joined.
    std::string Header(const std::string& name) const {
      const std::string head = data.substr(0, data.find("\r\n\r\n"));
      const std::string wanted = Lower(name) + ":";
      std::size_t at = 0;
      while (at < head.size()) {
        std::size_t end = head.find("\r\n", at);
        if (end == std::string::npos) end = head.size();
        std::string line = head.substr(at, end - at);
        at = end + 2;
        if (!Lower(line).starts_with(wanted)) continue;
        std::string value = line.substr(wanted.size());
        while (at < head.size() && (head[at] == ' ' || head[at] == '\t')) {
          end = head.find("\r\n", at);
          if (end == std::string::npos) end = head.size();
          value += head.substr(at, end - at);
          at = end + 2;
        }
        const auto first = value.find_first_not_of(' ');
        return first == std::string::npos ? std::string() : value.substr(first);
      }
      return {};
    }
    /// The subject with its RFC 2047 words decoded.
    std::string Subject() const { return DecodeWords(Header("Subject")); }
    /// The body, base64 decoded when it is.
    std::string Body() const {
      const std::string raw = data.substr(data.find("\r\n\r\n") + 4);
      if (Lower(Header("Content-Transfer-Encoding")) != "base64") return raw;
      std::string joined;
      for (char c : raw) {
        if (c != '\r' && c != '\n') joined += c;
      }
      return Base64Decode(joined).value_or("(not base64)");
    }
  };

  SmtpSink() : listener_([this](LoopbackConnection& c) { Serve(c); }) {}

  std::uint16_t port() const { return listener_.port(); }
  /// The codes to answer the next RCPT TO commands with, in order; 250 after.
  void AnswerRcptWith(std::vector<int> codes) {
    std::lock_guard lock(mutex_);
    rcpt_codes_.assign(codes.begin(), codes.end());
  }
  /// Forgets the messages received so far.
  void Clear() {
    std::lock_guard lock(mutex_);
    messages_.clear();
  }
  std::vector<Message> Messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  int Connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static std::string DecodeWords(const std::string& value) {
    std::string out;
    std::size_t at = 0;
    bool last_was_word = false;
    while (at < value.size()) {
      const auto start = value.find("=?", at);
      if (start == std::string::npos) {
        out += value.substr(at);
        break;
      }
      const std::string between = value.substr(at, start - at);
      // Space between two encoded words is not part of the text (RFC 2047 6.2).
      if (!(last_was_word && between.find_first_not_of(" \t") == std::string::npos)) out += between;
      const auto q1 = value.find('?', start + 2);
      const auto q2 = value.find('?', q1 + 1);
      const auto end = value.find("?=", q2 + 1);
      if (q1 == std::string::npos || q2 == std::string::npos || end == std::string::npos) {
        out += value.substr(start);
        break;
      }
      const std::string encoding = Lower(value.substr(q1 + 1, q2 - q1 - 1));
      const std::string text = value.substr(q2 + 1, end - q2 - 1);
      out += encoding == "b" ? Base64Decode(text).value_or("?") : text;
      at = end + 2;
      last_was_word = true;
    }
    return out;
  }

  void Serve(LoopbackConnection& c) {
    {
      std::lock_guard lock(mutex_);
      ++connections_;
    }
    c.Send("220 sink.localhost ESMTP test sink\r\n");
    Message m;
    while (auto line = c.ReadLine()) {
      const std::string upper = Lower(line->substr(0, std::min<std::size_t>(line->size(), 10)));
      if (upper.starts_with("ehlo ")) {
        m.helo = line->substr(5);
        c.Send("250-sink.localhost greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
      } else if (upper.starts_with("helo ")) {
        m.helo = line->substr(5);
        c.Send("250 sink.localhost\r\n");
      } else if (upper.starts_with("mail from:")) {
        m.mail_from = Address(line->substr(10));
        c.Send("250 2.1.0 OK\r\n");
      } else if (upper.starts_with("rcpt to:")) {
        int code = 250;
        {
          std::lock_guard lock(mutex_);
          if (!rcpt_codes_.empty()) {
            code = rcpt_codes_.front();
            rcpt_codes_.pop_front();
          }
        }
        if (code == 250) m.rcpt_to.push_back(Address(line->substr(8)));
        c.Send(code == 250   ? "250 2.1.5 OK\r\n"
               : code < 500 ? std::to_string(code) + " 4.3.0 Mailbox busy, try again later\r\n"
                            : std::to_string(code) + " 5.1.1 No such mailbox here\r\n");
      } else if (upper.starts_with("data")) {
        if (m.rcpt_to.empty()) {
          c.Send("554 5.5.1 No valid recipients\r\n");
          continue;
        }
        c.Send("354 End data with <CR><LF>.<CR><LF>\r\n");
        std::string data;
        while (auto body = c.ReadLine()) {
          if (*body == ".") break;
          data += (body->starts_with('.') ? body->substr(1) : *body) + "\r\n";
        }
        m.data = data;
        {
          std::lock_guard lock(mutex_);
          messages_.push_back(m);
        }
        m.rcpt_to.clear();
        c.Send("250 2.0.0 Queued as test\r\n");
      } else if (upper.starts_with("rset")) {
        m.rcpt_to.clear();
        c.Send("250 2.0.0 OK\r\n");
      } else if (upper.starts_with("quit")) {
        c.Send("221 2.0.0 Bye\r\n");
        return;
      } else {
        c.Send("500 5.5.2 Command not recognised\r\n");
      }
    }
  }

  static std::string Address(const std::string& text) {
    const auto open = text.find('<');
    const auto close = text.find('>');
    if (open == std::string::npos || close == std::string::npos) return text;
    return text.substr(open + 1, close - open - 1);
  }

  mutable std::mutex mutex_;
  std::deque<int> rcpt_codes_;
  std::vector<Message> messages_;
  int connections_ = 0;
  LoopbackListener listener_;  // last: its thread stops before the rest goes
};

}  // namespace dzong::testing
