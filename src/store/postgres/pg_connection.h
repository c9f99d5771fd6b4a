// libpq behind RAII handles, and a pool of connections. Private to store/postgres.
//
// Every statement goes through `Connection::run` with text parameters (`Params`); a failure comes
// back as a Status: a lost connection, a server shutting down, a deadlock or a serialization
// failure are ServiceUnavailable (the request may be retried), everything else InternalError.
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace allmende::store::postgres {

// The text parameters $1, $2, ... of one statement.
class Params {
 public:
  // Each adder returns the placeholder ("$n") of the parameter it added.
  std::string add(std::string_view text);
  std::string add(int64_t v);
  std::string add(double v);  // exact (17 significant digits)
  std::string addNull();
  // bytea in hex form ('\x...'), of at most `max` leading bytes of `bytes`.
  std::string addBytes(std::string_view bytes, size_t max);
  // Array literals ('{...}'), for `= ANY($n::text[])` and `unnest`.
  std::string addArray(const std::vector<std::string>& v);
  std::string addArray(const std::vector<std::optional<std::string>>& v);
  std::string addArray(const std::vector<std::optional<double>>& v);
  std::string addArray(const std::vector<int64_t>& v);
  size_t size() const { return values_.size(); }
  // The hex form of bytea ('\x...') of at most `max` leading bytes, for arrays of bytea.
  static std::string bytesLiteral(std::string_view bytes, size_t max);

 private:
  friend class Connection;
  std::string push(std::optional<std::string> v);
  std::vector<std::optional<std::string>> values_;
};

// A query result. Column values are text (or NULL).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool isNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  // NUL-terminated (libpq terminates every value), for RapidJSON's in-place parsing.
  const char* cstr(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  int64_t int64(int row, int col) const;
  double dbl(int row, int col) const;
  // The number of rows a data-modifying statement touched.
  int64_t affected() const;

 private:
  struct Free {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Free> r_;
};

class Connection {
 public:
  // Connects with a libpq connection string or URL; with `schema`, makes it the first on the
  // search path (public stays: PostGIS lives there).
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo, const std::string& schema);

  Result<PgResult> run(const std::string& sql, const Params& params = {});
  // Several statements without parameters (schema changes, BEGIN/COMMIT).
  Status exec(const std::string& sql);
  // Whether the connection is still usable (after a failure: not lost).
  bool healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  bool inTransaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }
  PGconn* get() const { return conn_.get(); }
  // The SQLSTATE of the last failed statement ("" if none), e.g. "23505" unique violation.
  const std::string& lastState() const { return lastState_; }

 private:
  struct Close {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  Status failure(const PGresult* r, std::string_view what) const;
  std::unique_ptr<PGconn, Close> conn_;
  mutable std::string lastState_;
};

// Connections for any thread. A thread that already holds a lease gets the same connection
// again (a read nested in another: a linked entity looked up while a query runs), so nesting
// never waits for a second connection. Reads run outside transactions; a write holds its
// connection for its transaction.
class ConnectionPool {
 public:
  ConnectionPool(std::string conninfo, std::string schema, size_t maxConnections)
      : conninfo_(std::move(conninfo)), schema_(std::move(schema)), max_(maxConnections) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c);
    explicit Lease(Connection* borrowed) : conn_(borrowed) {}
    Lease(Lease&& o) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection* operator->() const { return conn_; }
    Connection& operator*() const { return *conn_; }

   private:
    ConnectionPool* pool_ = nullptr;  // null: borrowed from an outer lease of this thread
    std::unique_ptr<Connection> owned_;
    Connection* conn_ = nullptr;
  };

  // Waits for a free connection when `maxConnections` are in use; ServiceUnavailable when the
  // database cannot be reached.
  Result<Lease> lease();
  const std::string& conninfo() const { return conninfo_; }
  const std::string& schema() const { return schema_; }

 private:
  void release(std::unique_ptr<Connection> c);
  const std::string conninfo_, schema_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
  size_t open_ = 0;                                // GUARDED_BY(mu_)
};

// A store URL split into what libpq understands and the Allmende parameter `schema`
// (postgres://user@host:port/db?schema=NAME): the schema holding Allmende's tables.
struct PgTarget {
  std::string conninfo;
  std::string schema;  // "" = the connection's default search path
};
Result<PgTarget> parseStoreUrl(const std::string& url);
// Whether `store` names a PostgreSQL database (postgres:// or postgresql://).
bool isPostgresUrl(const std::string& store);

}  // namespace allmende::store::postgres
