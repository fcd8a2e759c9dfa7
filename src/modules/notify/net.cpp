#include "modules/notify/net.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace dzong::notify {
namespace {
constexpr char kUnreachable[] = "notify.unreachable";
constexpr std::size_t kMaxLine = 64 * 1024;
}  // namespace

TcpStream::~TcpStream() {
  if (fd_ >= 0) ::close(fd_);
}

Status TcpStream::Wait(short events) {
  pollfd p{fd_, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (n > 0) return {};
    if (n == 0) return Error(kUnreachable, fmt::format("no answer within {} s", timeout_.count() / 1000.0));
    if (errno != EINTR) return Error(kUnreachable, fmt::format("the connection failed: {}", std::strerror(errno)));
  }
}

Status TcpStream::Connect(const std::string& host, const std::string& port, std::chrono::milliseconds timeout) {
  timeout_ = timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Error(kUnreachable, fmt::format("cannot find {}: {}", host, ::gai_strerror(rc)));
  }
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
      fd_ = fd;
      Status ready = Wait(POLLOUT);
      int error = 0;
      socklen_t size = sizeof error;
      if (ready.ok() && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0) {
        ::freeaddrinfo(found);
        return {};
      }
      last = ready.ok() ? std::strerror(error) : ready.error().message;
      fd_ = -1;
    } else {
      last = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return Error(kUnreachable, fmt::format("cannot connect to {}:{}: {}", host, port, last));
}

Status TcpStream::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      DZONG_TRY(Wait(POLLOUT));
      continue;
    }
    return Error(kUnreachable, "the connection closed while sending");
  }
  return {};
}

Result<std::string> TcpStream::ReadLine() {
  for (;;) {
    const auto eol = buffer_.find('\n');
    if (eol != std::string::npos) {
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > kMaxLine) return Error(kUnreachable, "the peer sent a line longer than 64 KiB");
    DZONG_TRY(Wait(POLLIN));
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return Error(kUnreachable, "the peer closed the connection");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return Error(kUnreachable, fmt::format("the connection broke: {}", std::strerror(errno)));
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<std::string> TcpStream::ReadAll(std::size_t limit) {
  std::string out = std::move(buffer_);
  buffer_.clear();
  for (;;) {
    if (out.size() >= limit) return out;
    DZONG_TRY(Wait(POLLIN));
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return Error(kUnreachable, fmt::format("the connection broke: {}", std::strerror(errno)));
    }
    out.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace dzong::notify
