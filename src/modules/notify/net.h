#pragma once
// A TCP connection with a deadline on every step (internal to the module):
// the sender must never wait for ever on a mail server or an SMS gateway,
// or the server could not stop.

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace dzong::notify {

class TcpStream {
 public:
  TcpStream() = default;
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  /// Errors: notify.unreachable (not found, refused, or no answer in time).
  Status Connect(const std::string& host, const std::string& port, std::chrono::milliseconds timeout);
  /// Errors: notify.unreachable when the peer goes away or stops reading.
  Status Send(std::string_view bytes);
  /// One line without its CRLF (or LF). Errors: notify.unreachable.
  Result<std::string> ReadLine();
  /// Everything until the peer closes, at most `limit` bytes.
  Result<std::string> ReadAll(std::size_t limit);

 private:
  Status Wait(short events);
  int fd_ = -1;
  std::chrono::milliseconds timeout_{10'000};
  std::string buffer_;
};

}  // namespace dzong::notify
