#include "federation/forward.h"

#include <chrono>
#include <random>

#include "federation/registration_store.h"

namespace allmende::federation {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the Via value names `id` as one of its received-by entries ("1.1 id, 1.1 other").
bool viaNames(std::string_view via, std::string_view id) {
  while (!via.empty()) {
    size_t comma = via.find(',');
    std::string_view entry = trim(via.substr(0, comma));
    via = comma == std::string_view::npos ? std::string_view() : via.substr(comma + 1);
    size_t space = entry.find(' ');
    std::string_view by = space == std::string_view::npos ? entry : trim(entry.substr(space + 1));
    by = by.substr(0, by.find(' '));  // a comment may follow
    if (by == id) return true;
  }
  return false;
}

std::string encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string randomBrokerId() {
  std::random_device rd;
  std::string id = "allmende-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 12; ++i) id += kHex[rd() & 15];
  return id;
}

Precedence precedenceOf(Mode mode) {
  switch (mode) {
    case Mode::kExclusive:
      return Precedence::kExclusive;
    case Mode::kRedirect:
      return Precedence::kRedirect;
    case Mode::kAuxiliary:
      return Precedence::kAuxiliary;
    case Mode::kInclusive:
      break;
  }
  return Precedence::kInclusive;
}

std::string sourceUrl(const std::string& endpoint, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  std::string url = endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep;
    url += encode(k) + "=" + encode(v);
    sep = '&';
  }
  return url;
}

Forwarder::Forwarder(const RegistrationStore& registrations, ForwardOptions options, const Clock& clock)
    : registrations_(registrations), options_(std::move(options)), clock_(clock) {}

bool Forwarder::mayForward(std::string_view localParam, std::string_view via) const {
  if (localParam == "true") return false;
  return !viaNames(via, options_.brokerId);
}

bool Forwarder::anyRegistration(const std::string& tenant) const {
  auto all = registrations_.list(tenant);
  return !all || !all->empty();  // on a failure, let targets() report it
}

Result<std::vector<Registration>> Forwarder::targets(const std::string& tenant, Operation op,
                                                     const RequestSelector& selector) const {
  return matchingRegistrations(registrations_, tenant, op, selector, clock_.now());
}

std::vector<SourceAnswer> Forwarder::send(const std::vector<Registration>& targets,
                                          const std::vector<SourceRequest>& requests, std::string_view via) const {
  // NGSI-LD 6.3.18: the forwarded request carries Via with this broker appended.
  std::string viaOut = std::string(trim(via));
  if (!viaOut.empty()) viaOut += ", ";
  viaOut += "1.1 " + options_.brokerId;
  const Micros now = clock_.now();
  std::vector<OutboundRequest> out;
  std::vector<size_t> sentIndex;  // targets[sentIndex[k]] gets out[k]
  std::vector<SourceAnswer> answers(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const Registration& r = targets[i];
    const SourceRequest& request = requests[i];
    answers[i].registration = &r;
    if (coolingDown(r, now)) {
      answers[i].response = Status(ErrorType::kServiceUnavailable,
                                   "context source " + r.endpoint + " failed recently (management.cooldown)");
      continue;
    }
    OutboundRequest o;
    o.method = request.method;
    o.url = sourceUrl(r.endpoint, request.path, request.query);
    o.headers = request.headers;
    o.headers.emplace_back("Via", viaOut);
    // NGSI-LD 5.2.9: `tenant` is the tenant to address at the source; contextSourceInfo
    // key-value pairs go along as headers.
    if (r.tenant && !r.tenant->empty()) o.headers.emplace_back("NGSILD-Tenant", *r.tenant);
    for (const KeyValue& kv : r.contextSourceInfo) {
      if (kv.key.empty() || kv.key.find_first_of(":\r\n ") != std::string::npos) continue;
      if (kv.value.find_first_of("\r\n") != std::string::npos) continue;
      o.headers.emplace_back(kv.key, kv.value);
    }
    o.body = request.body;
    if (r.management.timeoutMillis && *r.management.timeoutMillis > 0) {
      o.timeout = std::chrono::milliseconds(*r.management.timeoutMillis);
    }
    out.push_back(std::move(o));
    sentIndex.push_back(i);
  }
  std::vector<Result<InboundResponse>> responses = exchangeAll(out, options_.http);
  const Micros done = clock_.now();
  for (size_t k = 0; k < responses.size(); ++k) {
    SourceAnswer& a = answers[sentIndex[k]];
    a.response = std::move(responses[k]);
    // A source that answers, even with an error status, is reachable; 5xx counts as a failure.
    record(*a.registration, a.response.isOk() && a.response->status < 500, done);
  }
  return answers;
}

bool Forwarder::coolingDown(const Registration& r, Micros now) const {
  if (!r.management.cooldownMillis || *r.management.cooldownMillis <= 0) return false;
  std::lock_guard lock(mu_);
  auto it = status_.find({r.ownerTenant, r.id});
  if (it == status_.end() || !it->second.lastFailure) return false;
  const RegistrationStatus& st = it->second;
  bool failedLast = !st.lastSuccess || *st.lastFailure > *st.lastSuccess;
  return failedLast && now - *st.lastFailure < *r.management.cooldownMillis * 1000;
}

void Forwarder::record(const Registration& r, bool ok, Micros now) const {
  std::lock_guard lock(mu_);
  RegistrationStatus& st = status_[{r.ownerTenant, r.id}];
  ++st.timesSent;
  if (ok) {
    st.lastSuccess = now;
  } else {
    ++st.timesFailed;
    st.lastFailure = now;
  }
}

std::optional<RegistrationStatus> Forwarder::status(const std::string& tenant, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = status_.find({tenant, id});
  if (it == status_.end()) return std::nullopt;
  return it->second;
}

std::string Forwarder::warning(const SourceAnswer& a) {
  std::string reason;
  if (!a.response) {
    reason = a.response.status().detail();
  } else {
    reason = "answered HTTP " + std::to_string(a.response->status);
  }
  for (char& c : reason) {
    if (c == '"' || c == '\\' || c == '\r' || c == '\n') c = '\'';
  }
  std::string id = a.registration ? a.registration->id : "-";
  return "199 " + id + " \"" + reason + "\"";
}

}  // namespace allmende::federation
