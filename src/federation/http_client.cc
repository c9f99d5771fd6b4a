// The only file of federation/ that includes Boost.Beast / Asio / OpenSSL.
#include "federation/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace allmende::federation {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string_view InboundResponse::header(std::string_view lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return {};
}

bool splitUrl(std::string_view url, UrlParts& u) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    u.tls = false;
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    u.tls = true;
  } else {
    return false;
  }
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  target = target.substr(0, target.find('#'));
  u.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  size_t bracket = authority.find(']');
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return !u.host.empty() && !u.port.empty();
}

namespace {

Status unavailable(const std::string& url, const std::string& why) {
  return {ErrorType::kServiceUnavailable, "context source " + url + ": " + why};
}

// One request on its own connection. Each step's callback checks `finished`, since the timer may
// have ended the exchange (closing the socket makes the pending operation complete with an error).
struct Exchange : std::enable_shared_from_this<Exchange> {
  Exchange(asio::io_context& ioc, asio::ssl::context* tlsCtx, const OutboundRequest& r, const HttpClientOptions& o,
           Result<InboundResponse>& out)
      : request(r), options(o), result(out), resolver(ioc), timer(ioc) {
    if (tlsCtx) {
      secure.emplace(ioc, *tlsCtx);
    } else {
      plain.emplace(ioc);
    }
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void finish(Result<InboundResponse> r) {
    if (finished) return;
    finished = true;
    result = std::move(r);
    timer.cancel();
    resolver.cancel();
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }
  void fail(const std::string& why) { finish(unavailable(request.url, why)); }

  void start(const UrlParts& parts) {
    url = parts;
    auto self = shared_from_this();
    auto timeout = request.timeout.count() > 0 ? request.timeout : options.timeout;
    timer.expires_after(timeout);
    timer.async_wait([self, timeout](beast::error_code ec) {
      if (!ec) self->fail("no answer within " + std::to_string(timeout.count()) + " ms");
    });
    resolver.async_resolve(url.host, url.port, [self](beast::error_code ec, tcp::resolver::results_type r) {
      if (self->finished) return;
      if (ec) return self->fail("name resolution failed: " + ec.message());
      self->connect(r);
    });
  }

  void connect(const tcp::resolver::results_type& resolved) {
    // Only the addresses the egress policy lets through, checked after the resolution.
    std::vector<tcp::endpoint> permitted;
    Status refusal;
    for (const auto& e : resolved) {
      Status st = options.egress ? options.egress->check(url.host, e.endpoint().address().to_string()) : Status::ok();
      if (st.isOk()) {
        permitted.push_back(e.endpoint());
      } else if (refusal.isOk()) {
        refusal = st;
      }
    }
    if (permitted.empty()) {
      if (refusal.isOk()) return fail("the host name has no address");
      return finish(badRequestData("context source " + request.url + ": " + refusal.detail()));
    }
    auto self = shared_from_this();
    lowest().async_connect(permitted, [self](beast::error_code ec, const tcp::endpoint&) {
      if (self->finished) return;
      if (ec) return self->fail("connect failed: " + ec.message());
      self->handshake();
    });
  }

  void handshake() {
    if (!secure) return send();
    if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str())) return fail("cannot set TLS server name");
    secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto self = shared_from_this();
    secure->async_handshake(asio::ssl::stream_base::client, [self](beast::error_code ec) {
      if (self->finished) return;
      if (ec) return self->fail("TLS handshake failed: " + ec.message());
      self->send();
    });
  }

  void send() {
    req.method_string(request.method);
    req.target(url.target);
    req.version(11);
    req.set(bhttp::field::host, url.host + ":" + url.port);
    req.set(bhttp::field::user_agent, "allmende");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.body() = request.body;
    req.prepare_payload();
    parser.body_limit(options.maxBodyBytes);
    parser.header_limit(64 * 1024);
    auto self = shared_from_this();
    auto onWrite = [self](beast::error_code ec, size_t) {
      if (self->finished) return;
      if (ec) return self->fail("send failed: " + ec.message());
      self->receive();
    };
    if (secure) {
      bhttp::async_write(*secure, req, onWrite);
    } else {
      bhttp::async_write(*plain, req, onWrite);
    }
  }

  void receive() {
    auto self = shared_from_this();
    auto onRead = [self](beast::error_code ec, size_t) {
      if (self->finished) return;
      if (ec == bhttp::error::body_limit) {
        return self->fail("answer larger than " + std::to_string(self->options.maxBodyBytes) + " bytes");
      }
      if (ec) return self->fail("receive failed: " + ec.message());
      self->done();
    };
    if (secure) {
      bhttp::async_read(*secure, buffer, parser, onRead);
    } else {
      bhttp::async_read(*plain, buffer, parser, onRead);
    }
  }

  void done() {
    auto& res = parser.get();
    InboundResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (out.body.size() > options.maxBodyBytes) {
      return fail("answer larger than " + std::to_string(options.maxBodyBytes) + " bytes");
    }
    finish(std::move(out));
  }

  const OutboundRequest& request;
  const HttpClientOptions& options;
  Result<InboundResponse>& result;
  UrlParts url;
  bool finished = false;
  tcp::resolver resolver;
  asio::steady_timer timer;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  bhttp::request<bhttp::string_body> req;
  bhttp::response_parser<bhttp::string_body> parser;
  beast::flat_buffer buffer;
};

}  // namespace

std::vector<Result<InboundResponse>> exchangeAll(const std::vector<OutboundRequest>& requests,
                                                 const HttpClientOptions& options) {
  std::vector<Result<InboundResponse>> results(requests.size(), Result<InboundResponse>(internalError("not sent")));
  asio::io_context ioc;
  std::optional<asio::ssl::context> tlsCtx;
  for (size_t i = 0; i < requests.size(); ++i) {
    UrlParts parts;
    if (!splitUrl(requests[i].url, parts)) {
      results[i] = badRequestData("context source URL " + requests[i].url + " is not an absolute http(s) URL");
      continue;
    }
    if (options.egress) {
      if (Status st = options.egress->checkHost(parts.host); !st.isOk()) {
        results[i] = badRequestData("context source " + requests[i].url + ": " + st.detail());
        continue;
      }
    }
    if (parts.tls && !tlsCtx) {
      tlsCtx.emplace(asio::ssl::context::tls_client);
      tlsCtx->set_default_verify_paths();
      if (!options.caFile.empty()) {
        beast::error_code ec;
        tlsCtx->load_verify_file(options.caFile, ec);
      }
      tlsCtx->set_verify_mode(asio::ssl::verify_peer);
    }
    auto ex = std::make_shared<Exchange>(ioc, parts.tls ? &*tlsCtx : nullptr, requests[i], options, results[i]);
    ex->start(parts);
  }
  ioc.run();  // returns when every exchange has finished (each has a timer that ends it)
  return results;
}

}  // namespace allmende::federation
