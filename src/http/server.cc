#include "http/server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <iterator>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/cors.h"
#include "http/forwarded.h"

namespace allmende::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr int kLingerSeconds = 2;

// What a connection is doing; a connection waiting for (the rest of) a request's headers is one
// the server may close to make room for a new one (the longest-waiting first).
enum class Phase { kHandshake, kIdle, kHeaders, kBusy };

// The part of a session the connection table sees (sessions are templates on the stream).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection from any thread (posted to the session's executor).
  virtual void evict() = 0;
  std::atomic<Phase> phase{Phase::kHandshake};
  std::atomic<int64_t> phaseSince{0};      // steady clock, nanoseconds
  std::list<SessionBase*>::iterator slot;  // in Impl::sessions; guarded by Impl::sessionsMu
  std::string client;                      // clientKey() of the peer; set before the session runs
  // This session if it is still alive (for eviction).
  virtual std::shared_ptr<SessionBase> self() = 0;

  void enter(Phase p) {
    phaseSince = SteadyClock::now().time_since_epoch().count();
    phase = p;
  }
  bool waiting() const { return phase != Phase::kBusy; }
};

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  ErrorResponder onError;
  CorsPolicy cors;
  TrustedProxies trusted;  // options.trustedProxies, parsed
  std::string hsts;        // the Strict-Transport-Security value; empty without TLS
  // Declared before io: sessions still queued in io at destruction count themselves out here.
  std::mutex sessionsMu;
  // Every live session; a session removes itself in its destructor, so the pointers are valid
  // while sessionsMu is held.
  std::list<SessionBase*> sessions;  // GUARDED_BY(sessionsMu)
  // Open connections per clientKey(), for maxConnectionsPerClient. GUARDED_BY(sessionsMu)
  std::unordered_map<std::string, size_t> perClient;
  std::atomic<bool> stopped{false};
  std::unique_ptr<asio::ssl::context> tls;  // set when TLS is configured
  asio::io_context io{};
  tcp::acceptor acceptor{io};
  // The acceptor is not thread-safe: accepting and closing run on this strand only.
  asio::strand<asio::io_context::executor_type> acceptStrand = asio::make_strand(io);
  asio::steady_timer acceptRetry{acceptStrand};
  std::vector<std::thread> threads;

  void accept();
  void onAccept(boost::system::error_code ec, tcp::socket socket);  // on acceptStrand
  void start(tcp::socket socket, std::string client);
  // At the connection limit: picks the connection waiting longest for a request (of `client`
  // only, when given) and marks it busy so it is not chosen twice; false when every such
  // connection is busy. `victim` is null when the one picked is being destroyed anyway.
  // Requires sessionsMu.
  bool pickEvictable(std::shared_ptr<SessionBase>& victim, const std::string* client = nullptr);
  // Whether a new connection of `client` may be started, choosing the connection it replaces if
  // one has to go. Requires sessionsMu.
  bool admit(const std::string& client, std::shared_ptr<SessionBase>& victim);
  void forget(SessionBase& s);  // requires sessionsMu
  Status loadTls();
};

namespace {

// The address a connection counts against in the per-client limit: the IPv4 address, or the /64
// prefix of an IPv6 one (RFC 4291 2.5.1: one host or link commonly holds a whole /64, and
// privacy addresses (RFC 8981) change within it).
std::string clientKey(const tcp::endpoint& peer) {
  asio::ip::address a = peer.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  if (!a.is_v6()) return a.to_string();
  asio::ip::address_v6::bytes_type bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

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
  r.headers.reserve(static_cast<size_t>(std::distance(in.begin(), in.end())));
  for (const auto& f : in) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = std::move(in.body());
  r.remoteAddress = remote;
  return r;
}

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  Session(Server::Impl& server, tcp::socket socket, StreamArgs&... args)
      : stream_(std::move(socket), args...), server_(server) {
    beast::error_code ec;
    auto ep = lowest().socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Session() override {
    std::lock_guard<std::mutex> lock(server_.sessionsMu);
    server_.forget(*this);
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  std::shared_ptr<SessionBase> self() override { return this->weak_from_this().lock(); }

  void evict() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

 private:
  PlainStream& lowest() { return beast::get_lowest_layer(stream_); }

  void begin() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      enter(Phase::kHandshake);
      lowest().expires_after(std::chrono::seconds(server_.options.headerTimeoutSeconds));
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->close();
        self->read();
      });
    } else {
      read();
    }
  }

  // Waiting for the next request is bounded by the idle timeout; once its first bytes are there
  // (or were pipelined), its headers must arrive within the header timeout and its body within
  // the body timeout (slowloris).
  void read() {
    if (buffer_.size() > 0) return readHeaders();
    enter(Phase::kIdle);
    lowest().expires_after(std::chrono::seconds(server_.options.idleTimeoutSeconds));
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->readHeaders();
    });
  }

  void readHeaders() {
    enter(Phase::kHeaders);
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.maxHeaderBytes));
    parser_->body_limit(server_.options.maxBodyBytes);
    bodyLimit_ = server_.options.maxBodyBytes;
    lowest().expires_after(std::chrono::seconds(server_.options.headerTimeoutSeconds));
    bhttp::async_read_header(
        stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec || self->parser_->is_done()) return self->onRead(ec);
          self->raiseBodyLimit();
          self->enter(Phase::kBusy);
          self->lowest().expires_after(std::chrono::seconds(self->server_.options.bodyTimeoutSeconds));
          bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                            [self](beast::error_code ec2, size_t) { self->onRead(ec2); });
        });
  }

  // Uploads may be larger than other bodies: the limit is raised before the body is read.
  void raiseBodyLimit() {
    bodyLimit_ = server_.options.maxBodyBytes;
    if (!server_.options.uploadLimit) return;
    const auto& h = parser_->get();
    size_t limit = server_.options.uploadLimit(std::string_view(h.method_string().data(), h.method_string().size()),
                                               std::string_view(h.target().data(), h.target().size()));
    if (limit > bodyLimit_) {
      parser_->body_limit(limit);
      bodyLimit_ = limit;
    }
  }

  void onRead(beast::error_code ec) {
    enter(Phase::kBusy);
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return close();
    }
    if (ec) {
      Status st =
          ec == bhttp::error::body_limit
              ? Status(ErrorType::kPayloadTooLarge, "request body larger than " + std::to_string(bodyLimit_) + " bytes")
          : ec == bhttp::error::header_limit
              ? Status(ErrorType::kHeadersTooLarge,
                       "request headers larger than " + std::to_string(server_.options.maxHeaderBytes) + " bytes")
              : Status(ErrorType::kInvalidRequest, "malformed HTTP request: " + ec.message());
      // The connection is not reusable after a framing error.
      return send(server_.onError(st), 11, false);
    }
    auto req = parser_->release();
    Status error;
    Request request = toRequest(std::move(req), remote_, error);
    if (!server_.trusted.empty()) {
      std::vector<std::string_view> forwarded;
      for (const auto& [name, value] : request.headers)
        if (name == "x-forwarded-for") forwarded.push_back(value);
      request.remoteAddress = server_.trusted.clientOf(remote_, forwarded);
    }
    Response response = answer(request, error);
    addCorsHeaders(server_.cors, request, response);
    send(std::move(response), req.version(), req.keep_alive(), req.method() == bhttp::verb::head);
  }

  Response answer(Request& request, const Status& error) {
    if (!error.isOk()) return server_.onError(error);
    if (auto preflight = corsPreflight(server_.cors, request)) {
      return *preflight ? std::move(preflight->value()) : server_.onError(preflight->status());
    }
    return server_.handler(request);
  }

  // One buffer, one write: Beast's serializer cost more than the rest of a small request.
  void send(Response r, unsigned version, bool keepAlive, bool headRequest = false) {
    bool keep = keepAlive && !server_.stopped;
    if (!server_.hsts.empty()) r.setHeader("Strict-Transport-Security", server_.hsts);
    const bool streamed = streamsBody(r, headRequest);
    if (streamed) {
      chunked_ = version >= 11;
      keep = keep && chunked_;  // HTTP/1.0: the end of the connection ends the body
    }
    out_ = serializeResponse(r, version, keep, headRequest);
    if (streamed) {
      body_ = std::move(r.stream);
      return pump(keep);
    }
    write(keep, false);
  }

  // Writes out_; then the next request (keep), or the end of the connection. A write that stalls
  // for the body timeout (a client that does not read) resets the connection.
  void write(bool keep, bool more) {
    lowest().expires_never();
    armStall();
    asio::async_write(stream_, asio::buffer(out_),
                      [self = this->shared_from_this(), keep, more](beast::error_code ec, size_t) {
                        self->disarmStall();
                        if (ec) return self->close();
                        if (more) {
                          self->out_.clear();
                          return self->pump(keep);
                        }
                        if (!keep) return self->linger();
                        self->read();
                      });
  }

  // A streamed body: gathers pieces up to kStreamWrite bytes into one write (appended to out_,
  // which holds the head the first time), framed as one chunk for HTTP/1.1.
  void pump(bool keep) {
    static constexpr size_t kStreamWrite = 64 << 10;
    std::string& piece = piece_;
    piece.clear();
    BodySource::Step step = BodySource::Step::kMore;
    while (step == BodySource::Step::kMore && piece.size() < kStreamWrite) step = body_->next(piece);
    const bool failed = step == BodySource::Step::kFailed;
    const bool end = step == BodySource::Step::kEnd;
    if (chunked_) {
      appendChunk(out_, piece);
      if (end) out_ += kLastChunk;
    } else {
      out_ += piece;
    }
    if (failed || end) {
      body_.reset();
      std::string().swap(piece_);  // a page's worth of memory, not kept by an idle connection
    }
    if (failed) {
      // What was made is sent, then the connection ends without the last chunk.
      spdlog::warn("http: a streamed answer failed midway; its connection is closed");
      return write(false, false);
    }
    write(keep, !end);
  }

  // After the last answer: end our side, then read and discard what the client still sends for
  // a moment before closing. Closing a socket with unread input resets the connection, and the
  // reset can destroy the answer (say a 431) before the client has read it.
  void linger() {
    enter(Phase::kHeaders);  // may be evicted
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().expires_after(std::chrono::seconds(kLingerSeconds));
    drain();
  }

  void drain() {
    lowest().async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  // Not Beast's timeout, which closes the socket gracefully: the FIN would wait behind the unsent
  // answers in the kernel, and a peer whose receive window stays closed would never see it while
  // the kernel keeps the buffers. A reset discards them at once (nginx: reset_timedout_connection).
  // A wait that already fired when its write completed finds the number moved on.
  void armStall() {
    stall_.expires_after(std::chrono::seconds(server_.options.bodyTimeoutSeconds));
    stall_.async_wait([self = this->shared_from_this(), n = stallNumber_](beast::error_code ec) {
      if (!ec && n == self->stallNumber_) self->reset();
    });
  }

  void disarmStall() {
    ++stallNumber_;
    stall_.cancel();
  }

  void reset() {
    beast::error_code ec;
    lowest().socket().set_option(asio::socket_base::linger(true, 0), ec);
    lowest().socket().close(ec);
  }

  // No TLS close_notify: the peer learns of the end by the closed TCP connection.
  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().socket().close(ec);
  }

  Stream stream_;
  Server::Impl& server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  size_t bodyLimit_ = 0;              // of the request being read
  std::string out_;                   // the response being written
  std::shared_ptr<BodySource> body_;  // the streamed body being sent, if any
  std::string piece_;                 // its next pieces
  bool chunked_ = false;              // sent with chunked transfer coding
  std::array<char, 2048> scratch_;    // input discarded while lingering
  asio::steady_timer stall_{stream_.get_executor()};  // bounds the write in progress
  uint64_t stallNumber_ = 0;                           // of that write
};

}  // namespace

bool Server::Impl::pickEvictable(std::shared_ptr<SessionBase>& victim, const std::string* client) {
  SessionBase* oldest = nullptr;
  for (SessionBase* s : sessions) {
    if (client && s->client != *client) continue;
    if (s->waiting() && (!oldest || s->phaseSince < oldest->phaseSince)) oldest = s;
  }
  if (!oldest) return false;
  oldest->enter(Phase::kBusy);
  victim = oldest->self();
  return true;
}

bool Server::Impl::admit(const std::string& client, std::shared_ptr<SessionBase>& victim) {
  if (options.maxConnectionsPerClient > 0 && !client.empty()) {
    auto it = perClient.find(client);
    // The client's own connection makes room, so the total does not grow (one client at its
    // limit never displaces another's).
    if (it != perClient.end() && it->second >= options.maxConnectionsPerClient) return pickEvictable(victim, &client);
  }
  if (sessions.size() >= options.maxConnections) return pickEvictable(victim);
  return true;
}

void Server::Impl::forget(SessionBase& s) {
  sessions.erase(s.slot);
  auto it = perClient.find(s.client);
  if (it != perClient.end() && --it->second == 0) perClient.erase(it);
}

void Server::Impl::start(tcp::socket socket, std::string client) {
  auto launch = [this, &client](auto session) {
    {
      std::lock_guard<std::mutex> lock(sessionsMu);
      session->client = std::move(client);
      ++perClient[session->client];
      session->slot = sessions.insert(sessions.end(), session.get());
    }
    session->enter(Phase::kIdle);
    session->run();
  };
  if (tls) {
    launch(std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls));
  } else {
    launch(std::make_shared<Session<PlainStream>>(*this, std::move(socket)));
  }
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io),
                        asio::bind_executor(acceptStrand, [this](beast::error_code ec, tcp::socket socket) {
                          onAccept(ec, std::move(socket));
                        }));
}

void Server::Impl::onAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor.is_open()) return;
  if (ec) {
    // Out of file descriptors (or similar): try again shortly instead of spinning.
    spdlog::warn("http: accept failed: {}", ec.message());
    acceptRetry.expires_after(std::chrono::milliseconds(100));
    acceptRetry.async_wait([this](beast::error_code e) {
      if (!e && acceptor.is_open()) accept();
    });
    return;
  }
  beast::error_code peerError;
  tcp::endpoint peer = socket.remote_endpoint(peerError);
  std::string client = peerError ? std::string() : clientKey(peer);
  // A trusted proxy carries many clients: its connections count against no per-client limit.
  if (!client.empty() && trusted.trusts(peer.address().to_string())) client.clear();
  bool room = true;
  std::shared_ptr<SessionBase> victim;
  {
    std::lock_guard<std::mutex> lock(sessionsMu);
    room = admit(client, victim);
  }
  // Outside the lock: the victim's destructor takes it.
  if (victim) victim->evict();
  victim.reset();
  if (room) {
    start(std::move(socket), std::move(client));
  } else {
    beast::error_code ignored;
    socket.close(ignored);
  }
  accept();
}

Server::Server(ServerOptions options, Handler handler, ErrorResponder onError) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  impl_->onError = std::move(onError);
  impl_->cors.origins = impl_->options.corsOrigins;
  // Validated by the command line (TrustedProxies::parse); a rule that does not parse trusts none.
  if (auto t = TrustedProxies::parse(impl_->options.trustedProxies)) impl_->trusted = std::move(t).value();
}

Server::~Server() { stop(); }

Status Server::Impl::loadTls() {
  if (options.tlsCertFile.empty() && options.tlsKeyFile.empty()) return Status::ok();
  if (options.tlsCertFile.empty() || options.tlsKeyFile.empty()) {
    return invalidRequest("TLS needs both a certificate file and a key file");
  }
  tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  // TLS 1.2 and 1.3 only; in 1.2 only ECDHE with AEAD ciphers (forward secrecy, no CBC, no RSA
  // key exchange); the server's order of preference.
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                   asio::ssl::context::single_dh_use | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                   SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(tls->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  beast::error_code ec;
  tls->use_certificate_chain_file(options.tlsCertFile, ec);
  if (ec) return invalidRequest("cannot use the TLS certificate " + options.tlsCertFile + ": " + ec.message());
  tls->use_private_key_file(options.tlsKeyFile, asio::ssl::context::pem, ec);
  if (ec) return invalidRequest("cannot use the TLS key " + options.tlsKeyFile + ": " + ec.message());
  if (SSL_CTX_check_private_key(tls->native_handle()) != 1) {
    return invalidRequest("the TLS key " + options.tlsKeyFile + " does not belong to the certificate");
  }
  if (options.hstsMaxAgeSeconds > 0) hsts = "max-age=" + std::to_string(options.hstsMaxAgeSeconds);
  return Status::ok();
}

Status Server::listen() {
  ALLMENDE_RETURN_IF_ERROR(impl_->loadTls());
  // Each connection takes a file descriptor; keep some for the store, notifications and logs.
  constexpr size_t kReservedFiles = 256;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;  // the soft limit is often 1024; the hard one is what counts
    setrlimit(RLIMIT_NOFILE, &files);
    getrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur != 0 && files.rlim_cur != RLIM_INFINITY) {
    size_t usable = files.rlim_cur > kReservedFiles * 2 ? files.rlim_cur - kReservedFiles : files.rlim_cur / 2;
    if (impl_->options.maxConnections > usable) {
      spdlog::warn("http: at most {} connections (open-file limit {}), not {}", usable, files.rlim_cur,
                   impl_->options.maxConnections);
      impl_->options.maxConnections = usable;
    }
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return invalidRequest("invalid listen address " + impl_->options.address);
  tcp::endpoint ep{address, impl_->options.port};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorType::kServiceUnavailable, "cannot listen on " + impl_->options.address + ":" +
                                                      std::to_string(impl_->options.port) + ": " + ec.message());
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

bool Server::tls() const { return impl_->tls != nullptr; }

void Server::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->acceptStrand, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->acceptRetry.cancel();
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace allmende::http
