#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace dzong::testing {

HttpClient::HttpClient(std::uint16_t port) : port_(port) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpClient::Connect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to the test server");
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  pending_.clear();
  ++connects_;
}

void HttpClient::Write(const std::string& bytes) {
  if (fd_ < 0) Connect();
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("connection closed while sending");
    sent += static_cast<std::size_t>(n);
  }
}

bool HttpClient::ClosedByServer(int ms) {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n <= 0;
}

HttpResponse HttpClient::ReadResponse() {
  const auto fill = [&]() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("connection closed while reading a response");
    pending_.append(chunk, static_cast<std::size_t>(n));
  };
  std::size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) fill();
  HttpResponse response;
  const std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  response.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    response.headers[name] = value;
  }
  const std::size_t length = std::stoul(response.Header("content-length").empty() ? "0"
                                                                                     : response.Header("content-length"));
  while (pending_.size() < length) fill();
  response.body = pending_.substr(0, length);
  pending_.erase(0, length);
  if (response.Header("connection") == "close") {
    ::close(fd_);
    fd_ = -1;
  }
  return response;
}

HttpResponse HttpClient::Raw(const std::string& bytes) {
  Write(bytes);
  return ReadResponse();
}

HttpResponse HttpClient::Send(const std::string& method, const std::string& target, const std::string& body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    if (name == "Content-Type") has_type = true;
  }
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    if (!has_type) request += "Content-Type: application/json\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (fd_ < 0) Connect();
  try {
    Write(request);
    return ReadResponse();
  } catch (const std::runtime_error&) {
    // The server may have closed an idle kept-alive connection: retry once.
    Connect();
    Write(request);
    return ReadResponse();
  }
}

HttpResponse HttpClient::Get(const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  return Send("GET", target, "", headers);
}

}  // namespace dzong::testing
