#pragma once
// A local HTTP endpoint for the tests that records every request it gets
// and answers with the status a test sets: the SMS gateway's stand-in.

#include <mutex>
#include <string>
#include <vector>

#include "support/loopback_listener.h"

namespace dzong::testing {

class HttpStub {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names in lower case
    std::string body;
    std::string Header(const std::string& name) const {
      for (const auto& [k, v] : headers) {
        if (k == name) return v;
      }
      return {};
    }
  };

  HttpStub() : listener_([this](LoopbackConnection& c) { Serve(c); }) {}

  std::uint16_t port() const { return listener_.port(); }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
  void AnswerWith(int status) {
    std::lock_guard lock(mutex_);
    status_ = status;
  }
  /// Forgets the requests received so far.
  void Clear() {
    std::lock_guard lock(mutex_);
    requests_.clear();
  }
  std::vector<Request> Requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve(LoopbackConnection& c) {
    auto line = c.ReadLine();
    if (!line) return;
    Request r;
    const auto space = line->find(' ');
    r.method = line->substr(0, space);
    r.target = line->substr(space + 1, line->find(' ', space + 1) - space - 1);
    std::size_t length = 0;
    while (auto header = c.ReadLine()) {
      if (header->empty()) break;
      const auto colon = header->find(':');
      std::string name = header->substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = header->substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      if (name == "content-length") length = std::stoul(value);
      r.headers.emplace_back(name, value);
    }
    if (length > 0) r.body = c.Read(length).value_or("");
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
      status = status_;
    }
    const std::string body = status < 300 ? R"({"status":"queued"})" : R"({"error":"refused"})";
    c.Send("HTTP/1.1 " + std::to_string(status) + " Stub\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  }

  mutable std::mutex mutex_;
  int status_ = 200;
  std::vector<Request> requests_;
  LoopbackListener listener_;
};

}  // namespace dzong::testing
