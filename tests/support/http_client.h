#pragma once
// A small blocking HTTP/1.1 client for the integration suite: it speaks to
// the real server over a real socket, keeps the connection alive, and can
// send raw bytes to test what a misbehaving client gets.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "http/client.h"

namespace dzong::testing {

/// The same answer as the command-line client reads.
using HttpResponse = http::ClientResponse;

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  /// Writes bytes as they are and reads one response.
  HttpResponse Raw(const std::string& bytes);
  /// Writes bytes without reading.
  void Write(const std::string& bytes);
  HttpResponse ReadResponse();
  /// True when the server has closed the connection (reads EOF within `ms`).
  bool ClosedByServer(int ms);
  int connects() const { return connects_; }

 private:
  void Connect();
  std::uint16_t port_;
  int fd_ = -1;
  int connects_ = 0;
  std::string pending_;
};

}  // namespace dzong::testing
