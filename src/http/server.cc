#include "http/server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>
#include <vector>

namespace allmende::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  ErrorResponder onError;
  // Declared before io: sessions still queued in io at destruction count themselves out here.
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopped{false};
  asio::io_context io{};
  tcp::acceptor acceptor{io};
  // The acceptor is not thread-safe: accepting and closing run on this strand only.
  asio::strand<asio::io_context::executor_type> acceptStrand = asio::make_strand(io);
  std::vector<std::thread> threads;

  void accept();
};

namespace {

// Takes the body out of `in`; the rest of `in` stays usable.
Request toRequest(bhttp::request<bhttp::string_body>&& in, const std::string& remote, Status& error) {
  Request r;
  r.method = std::string(in.method_string());
  std::string_view target(in.target().data(), in.target().size());
  size_t q = target.find('?');
  r.rawPath = std::string(target.substr(0, q));
  if (!percentDecode(target.substr(0, q), r.path)) {
    error = Status(ErrorType::kInvalidRequest, "malformed percent-encoding in the path");
  }
  if (q != std::string_view::npos && !parseQueryString(target.substr(q + 1), r.query)) {
    error = Status(ErrorType::kInvalidRequest, "malformed percent-encoding in the query string");
  }
  for (const auto& f : in) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = std::move(in.body());
  r.remoteAddress = remote;
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Session() { server_.connections--; }

  void run() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  // Waiting for the next request is bounded by the idle timeout; once its first bytes are there
  // (or were pipelined), the whole request must arrive within the header timeout (slowloris).
  void read() {
    if (buffer_.size() > 0) return readRequest();
    stream_.expires_after(std::chrono::seconds(server_.options.idleTimeoutSeconds));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->readRequest();
    });
  }

  void readRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.maxHeaderBytes));
    parser_->body_limit(server_.options.maxBodyBytes);
    bodyLimit_ = server_.options.maxBodyBytes;
    stream_.expires_after(std::chrono::seconds(server_.options.headerTimeoutSeconds));
    if (!server_.options.uploadLimit) {
      bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, shared_from_this()));
      return;
    }
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::onHeader, shared_from_this()));
  }

  // Uploads may be larger than other bodies: the limit is raised before the body is read.
  void onHeader(beast::error_code ec, size_t n) {
    if (ec) return onRead(ec, n);
    const auto& h = parser_->get();
    size_t limit = server_.options.uploadLimit(std::string_view(h.method_string().data(), h.method_string().size()),
                                               std::string_view(h.target().data(), h.target().size()));
    if (limit > server_.options.maxBodyBytes) {
      parser_->body_limit(limit);
      bodyLimit_ = limit;
    } else {
      bodyLimit_ = server_.options.maxBodyBytes;
    }
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec) {
      Status st = ec == bhttp::error::body_limit
                      ? Status(ErrorType::kPayloadTooLarge, "request body larger than " +
                                                                std::to_string(bodyLimit_) + " bytes")
                  : ec == bhttp::error::header_limit
                      ? Status(ErrorType::kHeadersTooLarge, "request headers larger than " +
                                                                std::to_string(server_.options.maxHeaderBytes) + " bytes")
                      : Status(ErrorType::kInvalidRequest, "malformed HTTP request: " + ec.message());
      // The connection is not reusable after a framing error.
      return send(server_.onError(st), 11, false);
    }
    auto req = parser_->release();
    Status error;
    Request request = toRequest(std::move(req), remote_, error);
    Response response = error.isOk() ? server_.handler(request) : server_.onError(error);
    send(response, req.version(), req.keep_alive(), req.method() == bhttp::verb::head);
  }

  // One buffer, one write: Beast's serializer cost more than the rest of a small request.
  void send(const Response& r, unsigned version, bool keepAlive, bool headRequest = false) {
    const bool keep = keepAlive && !server_.stopped;
    out_ = serializeResponse(r, version, keep, headRequest);
    stream_.expires_after(std::chrono::seconds(server_.options.headerTimeoutSeconds));
    asio::async_write(stream_, asio::buffer(out_), [self = shared_from_this(), keep](beast::error_code ec, size_t) {
      if (ec || !keep) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Server::Impl& server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  size_t bodyLimit_ = 0;  // of the request being read
  std::string out_;  // the response being written
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), asio::bind_executor(acceptStrand, [this](beast::error_code ec,
                                                                                            tcp::socket socket) {
    if (ec) {
      if (!acceptor.is_open()) return;
    } else if (connections.load() >= options.maxConnections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      connections++;
      std::make_shared<Session>(std::move(socket), *this)->run();
    }
    if (acceptor.is_open()) accept();
  }));
}

Server::Server(ServerOptions options, Handler handler, ErrorResponder onError) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->onError = std::move(onError);
}

Server::~Server() { stop(); }

Status Server::listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return invalidRequest("invalid listen address " + impl_->options.address);
  tcp::endpoint ep{address, impl_->options.port};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorType::kServiceUnavailable,
                  "cannot listen on " + impl_->options.address + ":" + std::to_string(impl_->options.port) + ": " +
                      ec.message());
  }
  return Status::ok();
}

void Server::serve() {
  asio::post(impl_->acceptStrand, [this] { impl_->accept(); });
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->acceptStrand, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace allmende::http
