// The only file of notify/ that includes Boost.Beast / Asio for HTTP.
#include "notify/http_sender.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <thread>
#include <unordered_map>

namespace allmende::notify {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

// host, port and target of an http:// or https:// URI.
struct HttpUrl {
  std::string host, port, target = "/";
  bool secure = false;
};

bool parseHttpUrl(std::string_view uri, HttpUrl& out) {
  out = HttpUrl{};
  if (uri.substr(0, 7) == "http://") {
    uri.remove_prefix(7);
    out.port = "80";
  } else if (uri.substr(0, 8) == "https://") {
    uri.remove_prefix(8);
    out.port = "443";
    out.secure = true;
  } else {
    return false;
  }
  size_t slash = uri.find('/');
  std::string_view authority = uri.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(uri.substr(slash));
  if (authority.find('@') != std::string_view::npos) return false;  // no credentials in URIs
  if (!authority.empty() && authority.front() == '[') {             // IPv6 literal
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      out.port = std::string(authority.substr(close + 2));
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  return !out.host.empty() && !out.port.empty();
}

class HttpSender final : public Transport {
 public:
  HttpSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
             std::shared_ptr<const EgressPolicy> egress)
      : retry_(retry), outcome_(std::move(outcome)), egress_(std::move(egress)), work_(asio::make_work_guard(ioc_)) {
    // https: the system's trusted CAs (and those of caFile), peer and host name verified.
    beast::error_code ec;
    tls_.set_default_verify_paths(ec);
    if (!caFile.empty()) {
      tls_.load_verify_file(caFile, ec);
      if (ec) spdlog::error("notifications: cannot load CA file {}: {}", caFile, ec.message());
    }
    tls_.set_verify_mode(asio::ssl::verify_peer);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~HttpSender() override { stop(); }

  void submit(Delivery d) override {
    asio::post(ioc_, [this, d = std::move(d)]() mutable { enqueue(std::move(d)); });
  }

  void stop() override {
    if (!thread_.joinable()) return;
    asio::post(ioc_, [this] {
      for (auto& [key, lane] : lanes_) {
        beast::error_code ec;
        lane->transport().socket().close(ec);
        lane->timer.cancel();
      }
      lanes_.clear();
    });
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

 private:
  struct Lane {
    explicit Lane(asio::io_context& ioc) : resolver(ioc), stream(ioc), timer(ioc) {}
    tcp::resolver resolver;
    beast::tcp_stream stream;                                   // http
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;  // https: a new one per connection
    asio::steady_timer timer;
    beast::tcp_stream& transport() { return tls ? tls->next_layer() : stream; }
    HttpUrl url;
    std::deque<Delivery> queue;
    bool busy = false;    // an attempt or a backoff is under way
    Micros lastSend = 0;  // when the previous request was written (throttling)
    bool connected = false;
    bool down = false;        // the last notification was given up: one attempt each until a success
    Micros probeAt = 0;       // while down: notifications before this instant are given up at once
    bool staleRetry = false;  // the attempt is the immediate retry after a closed keep-alive connection
    int attempts = 0;
    bhttp::request<bhttp::string_body> req;
    bhttp::response<bhttp::string_body> res;
    beast::flat_buffer buffer;
  };
  using LanePtr = std::shared_ptr<Lane>;

  void enqueue(Delivery d) {
    auto& lane = lanes_[d.lane];
    if (!lane) lane = std::make_shared<Lane>(ioc_);
    lane->queue.push_back(std::move(d));
    kick(lane);
  }

  void kick(const LanePtr& lane) {
    if (lane->busy) return;
    Micros now = systemClock().now();
    // The lane gave up a notification (the endpoint is down): until the next probe, queued ones
    // are given up at once, so a dead endpoint holds no backlog in memory.
    while (lane->down && now < lane->probeAt && !lane->queue.empty()) {
      outcome_(lane->queue.front(), Outcome::kFailed, "endpoint down since an earlier notification failed");
      lane->queue.pop_front();
    }
    if (lane->queue.empty()) return;
    lane->busy = true;
    Delivery& d = lane->queue.front();
    if (d.spacing > 0 && lane->lastSend + d.spacing > now) {  // throttling: wait, do not drop
      lane->timer.expires_after(std::chrono::microseconds(lane->lastSend + d.spacing - now));
      lane->timer.async_wait([this, lane](beast::error_code ec) {
        if (ec) return;
        lane->busy = false;
        kick(lane);
      });
      return;
    }
    if (!parseHttpUrl(d.uri, lane->url)) return fail(lane, "invalid http(s) URI", false);
    buildRequest(*lane, d);
    if (lane->connected) return send(lane, true);
    lane->resolver.async_resolve(
        lane->url.host, lane->url.port, [this, lane](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) return fail(lane, "resolve: " + ec.message(), false);
          std::vector<tcp::endpoint> permitted;
          std::string refusal;
          for (const auto& r : results) {
            Status st = egress_ ? egress_->check(lane->url.host, r.endpoint().address().to_string()) : Status::ok();
            if (st.isOk()) {
              permitted.push_back(r.endpoint());
            } else if (refusal.empty()) {
              refusal = st.detail();
            }
          }
          if (permitted.empty()) return fail(lane, refusal.empty() ? "resolve: no address" : refusal, false, true);
          if (lane->url.secure) lane->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, tls_);
          lane->transport().expires_after(std::chrono::microseconds(retry_.timeout));
          lane->transport().async_connect(permitted, [this, lane](beast::error_code ec2, const auto&) {
            if (ec2) return fail(lane, "connect: " + ec2.message(), false);
            if (lane->tls) return handshake(lane);
            lane->connected = true;
            send(lane, false);
          });
        });
  }

  void buildRequest(Lane& lane, const Delivery& d) {
    auto& req = lane.req;
    req = {};
    req.method(bhttp::verb::post);
    req.target(lane.url.target);
    req.version(11);
    req.set(bhttp::field::host, lane.url.host + ":" + lane.url.port);
    req.set(bhttp::field::content_type, d.message.contentType);
    req.set(bhttp::field::user_agent, "allmende");
    for (const auto& [k, v] : d.message.headers) req.set(k, v);
    req.body() = d.message.body;
    req.keep_alive(true);
    req.prepare_payload();
  }

  void handshake(const LanePtr& lane) {
    auto& tls = *lane->tls;
    // SNI, and the certificate must name the host of the endpoint URI.
    if (!SSL_set_tlsext_host_name(tls.native_handle(), lane->url.host.c_str())) {
      return fail(lane, "TLS: cannot set the server name", false);
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(lane->url.host));
    tls.async_handshake(asio::ssl::stream_base::client, [this, lane](beast::error_code ec) {
      if (ec) return fail(lane, "TLS handshake: " + ec.message(), false);
      lane->connected = true;
      send(lane, false);
    });
  }

  void send(const LanePtr& lane, bool reused) {
    lane->transport().expires_after(std::chrono::microseconds(retry_.timeout));
    if (lane->tls) return sendOn(lane, *lane->tls, reused);
    sendOn(lane, lane->stream, reused);
  }

  template <class Stream>
  void sendOn(const LanePtr& lane, Stream& stream, bool reused) {
    bhttp::async_write(stream, lane->req, [this, lane, &stream, reused](beast::error_code ec, size_t) {
      if (ec) return fail(lane, "send: " + ec.message(), reused);
      lane->lastSend = systemClock().now();  // the receiver has it from about now (throttling)
      lane->res = {};
      bhttp::async_read(stream, lane->buffer, lane->res, [this, lane, reused](beast::error_code ec2, size_t) {
        if (ec2) return fail(lane, "response: " + ec2.message(), reused);
        int status = static_cast<int>(lane->res.result_int());
        if (!lane->res.keep_alive()) close(*lane);
        if (status < 200 || status > 299) return fail(lane, "HTTP status " + std::to_string(status), false);
        succeed(lane);
      });
    });
  }

  static void close(Lane& lane) {
    beast::error_code ec;
    // No TLS close_notify: the connection is dropped (after an error, or the receiver's close).
    lane.transport().socket().shutdown(tcp::socket::shutdown_both, ec);
    lane.transport().close();
    lane.tls.reset();
    lane.connected = false;
    lane.buffer.consume(lane.buffer.size());
  }

  void succeed(const LanePtr& lane) {
    outcome_(lane->queue.front(), Outcome::kDelivered, {});
    lane->queue.pop_front();
    lane->attempts = 0;
    lane->down = false;
    lane->staleRetry = false;
    lane->busy = false;
    kick(lane);
  }

  // `final`: no retry helps (the egress policy refused the endpoint).
  void fail(const LanePtr& lane, const std::string& error, bool reused, bool final = false) {
    close(*lane);
    // A keep-alive connection the receiver closed while idle is not the receiver's failure: try
    // once more at once on a new connection.
    if (reused && !lane->staleRetry) {
      lane->staleRetry = true;
      lane->busy = false;
      return kick(lane);
    }
    lane->staleRetry = false;
    ++lane->attempts;
    if (final || lane->down || lane->attempts >= retry_.maxAttempts) {
      outcome_(lane->queue.front(), Outcome::kFailed, error);
      lane->queue.pop_front();
      lane->attempts = 0;
      lane->down = true;
      lane->probeAt = systemClock().now() + probePeriod();
      lane->busy = false;
      return kick(lane);
    }
    outcome_(lane->queue.front(), Outcome::kRetrying, error);
    Micros backoff = retry_.firstBackoff;
    for (int i = 1; i < lane->attempts && backoff < retry_.maxBackoff; ++i) backoff *= 2;
    lane->timer.expires_after(std::chrono::microseconds(std::min(backoff, retry_.maxBackoff)));
    lane->timer.async_wait([this, lane](beast::error_code ec) {
      if (ec) return;
      lane->busy = false;
      kick(lane);
    });
  }

  // How long a lane stays down after giving up before the next attempt: the longest backoff.
  Micros probePeriod() const {
    Micros p = retry_.firstBackoff;
    for (int i = 2; i < retry_.maxAttempts && p < retry_.maxBackoff; ++i) p *= 2;
    return std::min(p, retry_.maxBackoff);
  }

  const RetryPolicy retry_;
  const OutcomeFn outcome_;
  const std::shared_ptr<const EgressPolicy> egress_;
  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unordered_map<std::string, LanePtr> lanes_;  // io thread only
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Transport> makeHttpSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
                                          std::shared_ptr<const EgressPolicy> egress) {
  return std::make_unique<HttpSender>(retry, caFile, std::move(outcome), std::move(egress));
}

}  // namespace allmende::notify
