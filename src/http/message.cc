#include "http/message.h"

#include <boost/beast/http/status.hpp>
#include <cctype>
#include <cstdio>
#include <ostream>

namespace allmende::http {

std::string_view Request::header(std::string_view lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return {};
}

bool Request::hasHeader(std::string_view lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return true;
  }
  return false;
}

const std::string* Request::param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percentEncode(std::string_view in, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool parseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>& out) {
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view part = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k, v;
    if (!percentDecode(part.substr(0, eq), k)) return false;
    if (eq != std::string_view::npos && !percentDecode(part.substr(eq + 1), v)) return false;
    out.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

bool streamsBody(const Response& r, bool headRequest) {
  return r.stream && !headRequest && r.status >= 200 && r.status != 204 && r.status != 304;
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out += "\r\n";
}

std::string serializeResponse(const Response& r, unsigned version, bool keepAlive, bool headRequest) {
  const bool bodyless = r.status < 200 || r.status == 204 || r.status == 304;
  std::string out;
  size_t headerBytes = 0;
  for (const auto& [name, value] : r.headers) headerBytes += name.size() + value.size() + 4;
  out.reserve(96 + headerBytes + (headRequest || bodyless ? 0 : r.body.size()));
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: Allmende\r\n";
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!bodyless && r.stream) {
    if (version >= 11) out += "Transfer-Encoding: chunked\r\n";
  } else if (!bodyless) {
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  if (version >= 11 && !keepAlive) out += "Connection: close\r\n";
  if (version == 10 && keepAlive) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!headRequest && !bodyless && !r.stream) out += r.body;
  return out;
}

}  // namespace allmende::http
