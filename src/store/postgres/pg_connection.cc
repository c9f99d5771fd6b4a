#include "store/postgres/pg_connection.h"

#include <cstdio>
#include <cstdlib>

namespace allmende::store::postgres {

namespace {

thread_local const ConnectionPool* tlsPool = nullptr;
thread_local Connection* tlsConnection = nullptr;

// One element of an array literal: double-quoted, with '"' and '\' escaped.
void appendQuoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string formatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool validIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return !(s[0] >= '0' && s[0] <= '9');
}

}  // namespace

std::string Params::push(std::optional<std::string> v) {
  values_.push_back(std::move(v));
  return "$" + std::to_string(values_.size());
}

std::string Params::add(std::string_view text) { return push(std::string(text)); }
std::string Params::add(int64_t v) { return push(std::to_string(v)); }
std::string Params::add(double v) { return push(formatDouble(v)); }
std::string Params::addNull() { return push(std::nullopt); }

std::string Params::bytesLiteral(std::string_view bytes, size_t max) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string Params::addBytes(std::string_view bytes, size_t max) { return push(bytesLiteral(bytes, max)); }

std::string Params::addArray(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    appendQuoted(out, v[i]);
  }
  return push(out + "}");
}

std::string Params::addArray(const std::vector<std::optional<std::string>>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    if (v[i])
      appendQuoted(out, *v[i]);
    else
      out += "NULL";
  }
  return push(out + "}");
}

std::string Params::addArray(const std::vector<std::optional<double>>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += v[i] ? formatDouble(*v[i]) : "NULL";
  }
  return push(out + "}");
}

std::string Params::addArray(const std::vector<int64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  return push(out + "}");
}

int64_t PgResult::int64(int row, int col) const { return std::strtoll(cstr(row, col), nullptr, 10); }
double PgResult::dbl(int row, int col) const { return std::strtod(cstr(row, col), nullptr); }
int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo, const std::string& schema) {
  auto c = std::make_unique<Connection>();
  c->conn_.reset(PQconnectdb(conninfo.c_str()));
  if (!c->conn_ || PQstatus(c->conn_.get()) != CONNECTION_OK) {
    std::string why = c->conn_ ? PQerrorMessage(c->conn_.get()) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status(ErrorType::kServiceUnavailable, "cannot connect to PostgreSQL: " + why);
  }
  std::string setup = "SET client_min_messages TO warning; SET TIME ZONE 'UTC';";
  if (!schema.empty()) {
    if (!validIdentifier(schema)) return invalidRequest("store schema '" + schema + "' is not a plain lower-case name");
    setup += "SET search_path TO " + schema + ", public;";  // created by the migrations (pg_schema.h)
  }
  ALLMENDE_RETURN_IF_ERROR(c->exec(setup));
  return c;
}

Status Connection::failure(const PGresult* r, std::string_view what) const {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_.get());
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  std::string s = state ? state : "";
  lastState_ = s;
  // 08: connection, 53: resources (disk full, too many connections), 57P: shutdown,
  // 40001 / 40P01: serialization failure, deadlock (the transaction may simply be retried).
  bool transient = !healthy() || s.rfind("08", 0) == 0 || s.rfind("53", 0) == 0 || s.rfind("57P", 0) == 0 ||
                   s == "40001" || s == "40P01";
  return Status(transient ? ErrorType::kServiceUnavailable : ErrorType::kInternalError,
                std::string(what) + ": " + message);
}

Result<PgResult> Connection::run(const std::string& sql, const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.values_.size());
  for (const auto& v : params.values_) values.push_back(v ? v->c_str() : nullptr);
  // PostgreSQL infers each parameter's type from its use and refuses one that the statement
  // does not use; such a parameter (a plan's parameters serve several statements) is text.
  std::vector<Oid> types(values.size(), 0);
  std::vector<bool> used(values.size() + 1, false);
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    size_t n = 0, j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + static_cast<size_t>(sql[j++] - '0');
    if (n >= 1 && n <= values.size()) used[n] = true;
  }
  constexpr Oid kTextOid = 25;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!used[i + 1]) types[i] = kTextOid;
  }
  PGresult* raw = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), types.data(), values.data(),
                               nullptr, nullptr, 0);
  PgResult r(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return failure(raw, "PostgreSQL");
  return r;
}

Status Connection::exec(const std::string& sql) {
  PGresult* raw = PQexec(conn_.get(), sql.c_str());
  PgResult r(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return failure(raw, "PostgreSQL");
  return Status::ok();
}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<Connection> c)
    : pool_(pool), owned_(std::move(c)), conn_(owned_.get()) {
  tlsPool = pool;
  tlsConnection = conn_;
}

ConnectionPool::Lease::Lease(Lease&& o) noexcept
    : pool_(std::exchange(o.pool_, nullptr)), owned_(std::move(o.owned_)), conn_(o.conn_) {}

ConnectionPool::Lease::~Lease() {
  if (!pool_ || !owned_) return;
  tlsPool = nullptr;
  tlsConnection = nullptr;
  pool_->release(std::move(owned_));
}

Result<ConnectionPool::Lease> ConnectionPool::lease() {
  if (tlsPool == this && tlsConnection) return Lease(tlsConnection);
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    ++open_;
  }
  auto c = Connection::open(conninfo_, schema_);
  if (!c) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void ConnectionPool::release(std::unique_ptr<Connection> c) {
  // A connection left in a transaction (a failed write) is rolled back; a lost one is dropped.
  if (c->healthy() && c->inTransaction()) c->exec("ROLLBACK");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->healthy()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

bool isPostgresUrl(const std::string& store) {
  return store.rfind("postgres://", 0) == 0 || store.rfind("postgresql://", 0) == 0;
}

Result<PgTarget> parseStoreUrl(const std::string& url) {
  if (!isPostgresUrl(url)) return invalidRequest("not a PostgreSQL URL: " + url);
  PgTarget t;
  size_t q = url.find('?');
  if (q == std::string::npos) {
    t.conninfo = url;
    return t;
  }
  std::string kept;
  size_t pos = q + 1;
  while (pos <= url.size()) {
    size_t amp = url.find('&', pos);
    if (amp == std::string::npos) amp = url.size();
    std::string param = url.substr(pos, amp - pos);
    if (param.rfind("schema=", 0) == 0) {
      t.schema = param.substr(7);
      if (!validIdentifier(t.schema)) {
        return invalidRequest("schema '" + t.schema + "' of the store URL: lower-case letters, digits and '_' only");
      }
    } else if (!param.empty()) {
      kept += (kept.empty() ? "" : "&") + param;
    }
    pos = amp + 1;
  }
  t.conninfo = url.substr(0, q) + (kept.empty() ? "" : "?" + kept);
  return t;
}

}  // namespace allmende::store::postgres
