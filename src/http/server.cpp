// The only translation unit that includes Boost.Beast.
#include <utility>  // before Boost.Asio, for Boost 1.74 with g++ 12 in C++20

#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace dzong::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

}  // namespace

// One event loop per thread, as nginx has one per worker: a connection lives
// on one loop for its whole life, so its steps never run concurrently and need
// neither strands nor locks, and no thread wakes another to hand over work
// (with one shared loop and a strand per connection, throughput was a sixth
// lower). Loop 0 also owns the acceptor, the signals and the grace timer.
class Server::Impl {
 public:
  Impl(ServerOptions options, RequestHandler handle, RejectHandler reject)
      : options_(std::move(options)), handle_(std::move(handle)), reject_(std::move(reject)) {
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      loops_.push_back(std::make_unique<net::io_context>(1));
      guards_.emplace_back(loops_.back()->get_executor());
    }
    acceptor_.emplace(*loops_[0]);
    signals_.emplace(*loops_[0]);
    grace_timer_.emplace(*loops_[0]);
  }

  class Session;

  Result<std::uint16_t> Listen() {
    beast::error_code ec;
    const auto address = net::ip::make_address(options_.address, ec);
    if (ec) return Error("server.listen", fmt::format("listen address '{}' is not an IP address", options_.address));
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error("server.listen", fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port,
                                                ec.message()));
    }
    return acceptor_->local_endpoint().port();
  }

  void StopOnSignals() {
    signals_->add(SIGINT);
    signals_->add(SIGTERM);
    signals_->async_wait([this](const beast::error_code& ec, int) {
      if (!ec) Shutdown();
    });
  }

  void Run() {
    net::post(*loops_[0], [this] { Accept(); });
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([this, i] { loops_[i]->run(); });
    loops_[0]->run();
    for (auto& t : threads) t.join();
  }

  // Safe from any thread: the work happens on loop 0.
  void Shutdown() {
    if (stopping_.exchange(true)) return;
    if (on_shutdown_) on_shutdown_();
    net::post(*loops_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      signals_->cancel();
      std::vector<std::shared_ptr<Session>> live;
      {
        std::lock_guard lock(sessions_mutex_);
        for (auto& [id, weak] : sessions_) {
          if (auto s = weak.lock()) live.push_back(std::move(s));
        }
      }
      for (auto& s : live) CloseWhenIdle(s);
      grace_timer_->expires_after(options_.shutdown_grace);
      grace_timer_->async_wait([this](const beast::error_code& ec) {
        if (ec) return;
        for (auto& loop : loops_) loop->stop();  // in-flight work outlived the grace period
      });
      FinishIfDrained();
    });
  }

  void OnShutdown(std::function<void()> callback) { on_shutdown_ = std::move(callback); }

  void Forget(std::uint64_t id) {
    {
      std::lock_guard lock(sessions_mutex_);
      sessions_.erase(id);
    }
    if (stopping_) net::post(*loops_[0], [this] { FinishIfDrained(); });
  }

  /// On loop 0: once the last connection has gone, the loops are released
  /// and Run() returns.
  void FinishIfDrained() {
    {
      std::lock_guard lock(sessions_mutex_);
      if (!sessions_.empty()) return;
    }
    grace_timer_->cancel();
    for (auto& guard : guards_) guard.reset();
  }

  static void CloseWhenIdle(const std::shared_ptr<Session>& session);

  void Accept() {
    net::io_context& loop = *loops_[next_loop_++ % loops_.size()];
    acceptor_->async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!stopping_ && acceptor_->is_open()) Accept();
        return;
      }
      if (stopping_) return;
      StartSession(std::move(socket));
      Accept();
    });
  }

  void StartSession(tcp::socket socket);

  ServerOptions options_;
  RequestHandler handle_;
  RejectHandler reject_;
  std::vector<std::unique_ptr<net::io_context>> loops_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::signal_set> signals_;
  std::optional<net::steady_timer> grace_timer_;
  std::size_t next_loop_ = 0;  ///< touched on loop 0 only
  std::atomic<bool> stopping_{false};
  std::function<void()> on_shutdown_;
  std::mutex sessions_mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_session_ = 0;
};

// One connection, on one loop. Reads wait for the first byte of a request
// under the idle timeout, then read the rest under the read timeout.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, std::uint64_t id, tcp::socket socket)
      : server_(server), id_(id), stream_(std::move(socket)) {
    beast::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = remote.address().to_string();
  }

  ~Session() { server_.Forget(id_); }

  void Start() { AwaitRequest(); }

  /// On the connection's loop: ends the connection now if it is waiting for
  /// a request; otherwise it closes after the response being made.
  void CloseIfIdle() {
    closing_ = true;
    if (idle_) stream_.cancel();
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void AwaitRequest() {
    if (closing_) return Close();
    if (buffer_.size() > 0) return ReadRequest();
    idle_ = true;
    stream_.expires_after(server_.options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->idle_ = false;
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.header_limit));
    // File uploads may be larger than other requests, on their paths only:
    // the parser checks a Content-Length when the headers end, so it reads
    // them with the larger limit, and the path then decides.
    const ServerOptions& options = server_.options_;
    body_limit_ = std::max(options.upload_body_limit, options.body_limit);
    parser_->body_limit(body_limit_);
    stream_.expires_after(options.read_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->OnRead(ec);
      const ServerOptions& limits = self->server_.options_;
      const auto target = self->parser_->get().target();
      const bool upload = std::any_of(limits.upload_prefixes.begin(), limits.upload_prefixes.end(),
                                      [&](const std::string& prefix) { return target.starts_with(prefix); });
      if (!upload) {
        self->body_limit_ = limits.body_limit;
        self->parser_->body_limit(limits.body_limit);
        const auto length = self->parser_->content_length();
        if (length && *length > limits.body_limit) return self->OnRead(bhttp::error::body_limit);
      }
      bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                        [self](beast::error_code read_ec, std::size_t) { self->OnRead(read_ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      return Close();
    }
    Request request;
    request.remote_address = remote_;
    if (ec) {
      const bool header = ec == bhttp::error::header_limit;
      const bool body = ec == bhttp::error::body_limit;
      const Error error = header ? Error(errc::kHeadersTooLarge,
                                         fmt::format("request headers are larger than {} bytes",
                                                     server_.options_.header_limit))
                          : body ? Error(errc::kBodyTooLarge, fmt::format("request body is larger than {} bytes",
                                                                          body_limit_))
                                 : Error(errc::kMalformedHttp,
                                         fmt::format("the request is not valid HTTP/1.1: {}", ec.message()));
      if (parser_->is_header_done()) CopyHeader(parser_->get(), request);
      return Send(server_.reject_(request, error), /*keep_alive=*/false, /*version=*/11);
    }
    auto message = parser_->release();
    CopyHeader(message, request);
    request.body = std::move(message.body());
    Response response = server_.handle_(request);
    const bool keep_alive = message.keep_alive() && !closing_ && !server_.stopping_;
    Send(std::move(response), keep_alive, message.version());
  }

  template <typename Message>
  static void CopyHeader(const Message& message, Request& request) {
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& field : message) {
      request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
  }

  void Send(Response response, bool keep_alive, unsigned version) {
    auto message = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), version);
    bool close_requested = false;
    for (const Header& h : response.headers) {
      if (beast::iequals(h.name, "Connection") && beast::iequals(h.value, "close")) {
        close_requested = true;
        continue;
      }
      message->set(h.name, h.value);
    }
    message->set(bhttp::field::server, "dzong");
    if (!response.content_type.empty()) message->set(bhttp::field::content_type, response.content_type);
    message->body() = std::move(response.body);
    keep_alive = keep_alive && !close_requested && !server_.stopping_;
    message->keep_alive(keep_alive);
    message->prepare_payload();
    stream_.expires_after(server_.options_.read_timeout);
    bhttp::async_write(stream_, *message,
                       [self = shared_from_this(), message, keep_alive](beast::error_code ec, std::size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->AwaitRequest();
                       });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  Impl& server_;
  const std::uint64_t id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::size_t body_limit_ = 0;  ///< the current request's
  std::string remote_;
  bool idle_ = false;
  bool closing_ = false;
};

void Server::Impl::CloseWhenIdle(const std::shared_ptr<Session>& session) {
  net::post(session->executor(), [session] { session->CloseIfIdle(); });
}

void Server::Impl::StartSession(tcp::socket socket) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(sessions_mutex_);
    const std::uint64_t id = ++next_session_;
    session = std::make_shared<Session>(*this, id, std::move(socket));
    sessions_.emplace(id, session);
  }
  session->Start();
}

Server::Server(ServerOptions options, RequestHandler handle, RejectHandler reject)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handle), std::move(reject))) {}
Server::~Server() = default;
Result<std::uint16_t> Server::Listen() { return impl_->Listen(); }
void Server::StopOnSignals() { impl_->StopOnSignals(); }
void Server::Run() { impl_->Run(); }
void Server::Shutdown() { impl_->Shutdown(); }
void Server::OnShutdown(std::function<void()> callback) { impl_->OnShutdown(std::move(callback)); }

}  // namespace dzong::http
