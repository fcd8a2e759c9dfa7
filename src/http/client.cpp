#include "http/client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace dzong::http {
namespace {

constexpr char kUnreachable[] = "client.unreachable";
constexpr char kBadResponse[] = "client.bad_response";
constexpr std::size_t kMaxResponse = 64 * 1024 * 1024;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A connected socket that closes itself.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

Result<int> Connect(const Origin& origin) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(origin.host.c_str(), origin.port.c_str(), &hints, &found); rc != 0) {
    return Error(kUnreachable, fmt::format("cannot find {}: {}", origin.host, ::gai_strerror(rc)));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Error(kUnreachable, fmt::format("cannot connect to {}:{}", origin.host, origin.port));
  return fd;
}

}  // namespace

Result<Origin> ParseOrigin(const std::string& base_url) {
  constexpr std::string_view kScheme = "http://";
  if (!base_url.starts_with(kScheme)) {
    return Error(errc::kValidation, "the server must be an http:// address, such as http://127.0.0.1:8080");
  }
  std::string rest = base_url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) {
    return Error(errc::kValidation, "the server address is a host and port, without a path");
  }
  Origin origin;
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || rest.back() == ']') {
    origin.host = rest;
    origin.port = "80";
  } else {
    origin.host = rest.substr(0, colon);
    origin.port = rest.substr(colon + 1);
  }
  if (origin.host.size() > 2 && origin.host.front() == '[' && origin.host.back() == ']') {
    origin.host = origin.host.substr(1, origin.host.size() - 2);
  }
  return origin;
}

Result<ClientResponse> Fetch(const Origin& origin, const std::string& method, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body) {
  DZONG_ASSIGN_OR_RETURN(int fd, Connect(origin));
  Socket socket(fd);
  std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n", method, target,
                                    origin.host, origin.port);
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") request += fmt::format("Content-Length: {}\r\n", body.size());
  request += "\r\n";
  request += body;
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return Error(kUnreachable, "the connection closed while sending the request");
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::recv(socket.fd(), chunk, sizeof chunk, 0);
    if (n < 0) return Error(kUnreachable, "the connection broke while reading the answer");
    if (n == 0) break;
    raw.append(chunk, static_cast<std::size_t>(n));
    if (raw.size() > kMaxResponse) return Error(kBadResponse, "the answer is larger than 64 MiB");
  }
  const auto head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || head_end == std::string::npos || raw.size() < 12) {
    return Error(kBadResponse, "the server did not answer in HTTP/1.1");
  }
  ClientResponse response;
  if (auto [p, ec] = std::from_chars(raw.data() + 9, raw.data() + 12, response.status); ec != std::errc()) {
    return Error(kBadResponse, "the answer has no status code");
  }
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const auto end = raw.find("\r\n", line);
    const std::string_view header(raw.data() + line, end - line);
    const auto colon = header.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers[Lower(header.substr(0, colon))] = std::string(value);
    }
    line = end + 2;
  }
  response.body = raw.substr(head_end + 4);
  if (Lower(response.Header("transfer-encoding")).find("chunked") != std::string::npos) {
    // Joins the chunks: size line, data, CRLF, until the zero chunk.
    std::string joined;
    std::size_t at = 0;
    for (;;) {
      const auto eol = response.body.find("\r\n", at);
      if (eol == std::string::npos) return Error(kBadResponse, "a chunked answer ended early");
      std::size_t size = 0;
      auto [p, ec] = std::from_chars(response.body.data() + at, response.body.data() + eol, size, 16);
      if (ec != std::errc()) return Error(kBadResponse, "a chunk has no size");
      if (size == 0) break;
      if (eol + 2 + size > response.body.size()) return Error(kBadResponse, "a chunked answer ended early");
      joined.append(response.body, eol + 2, size);
      at = eol + 2 + size + 2;
    }
    response.body = std::move(joined);
  }
  return response;
}

}  // namespace dzong::http
