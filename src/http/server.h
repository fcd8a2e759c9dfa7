#pragma once
// The HTTP/1.1 server. This header keeps Boost out of everyone else's build.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "http/message.h"

namespace dzong::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0 picks a free port (tests)
  int threads = 4;
  std::size_t header_limit = 16 * 1024;  ///< bytes of request line and headers (431 beyond)
  std::size_t body_limit = 1024 * 1024;  ///< bytes of body (413 beyond)
  /// Requests whose target starts with one of `upload_prefixes` (file
  /// uploads) may send up to `upload_body_limit` bytes of body; empty: no such paths.
  std::vector<std::string> upload_prefixes;
  std::size_t upload_body_limit = 0;
  std::chrono::milliseconds read_timeout{15000};  ///< to read one request once it has begun
  std::chrono::milliseconds idle_timeout{60000};  ///< between requests on a kept-alive connection
  std::chrono::milliseconds shutdown_grace{20000};  ///< longest wait for in-flight requests at shutdown
};

/// Answers a parsed request.
using RequestHandler = std::function<Response(Request&)>;
/// Answers a request that could not be parsed (413, 431, 400).
using RejectHandler = std::function<Response(Request&, const Error&)>;

class Server {
 public:
  Server(ServerOptions options, RequestHandler handle, RejectHandler reject);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens; returns the bound port. Errors: server.listen.
  Result<std::uint16_t> Listen();
  /// Stops on SIGINT and SIGTERM from now on.
  void StopOnSignals();
  /// Serves until shut down; returns when every connection has closed.
  void Run();
  /// Refuses new connections, lets in-flight requests finish, closes idle
  /// connections. Safe from any thread; `on_begin` runs first.
  void Shutdown();
  void OnShutdown(std::function<void()> callback);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dzong::http
