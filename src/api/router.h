// The route table of the HTTP API (one place, as Orion's orionRestServices.cpp) and dispatch:
// a path that exists with another verb answers 405 with Allow, an unknown path 404.
#pragma once

#include "api/services.h"
#include "http/message.h"

namespace allmende::api {

class Router {
 public:
  explicit Router(Services& services) : services_(services) {}
  // Answers one request. Thread-safe.
  http::Response handle(http::Request& request);

 private:
  Services& services_;
};

}  // namespace allmende::api
