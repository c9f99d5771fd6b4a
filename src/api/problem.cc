#include "api/problem.h"

#include "common/json.h"

namespace allmende::api {

std::string problemJson(const Status& status) {
  JsonBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("type");
  w.String(problemTypeUri(status.type()));
  w.Key("title");
  w.String(status.title());
  w.Key("status");
  w.Int(httpStatusOf(status.type()));
  w.Key("detail");
  w.String(status.detail());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

http::Response problemResponse(const Status& status) {
  http::Response r;
  r.status = httpStatusOf(status.type());
  r.setHeader("Content-Type", "application/json");
  if (status.type() == ErrorType::kTooManyRequests) r.setHeader("Retry-After", "1");
  r.body = problemJson(status);
  return r;
}

}  // namespace allmende::api
