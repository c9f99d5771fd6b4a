// The HTTP transport: one Asio thread, a keep-alive HTTP/1.1 connection per lane (endpoint and
// entity hash), each lane a queue delivered in order with retries and backoff. A slow or dead
// receiver only holds its own lanes.
#pragma once

#include <memory>

#include "notify/transport.h"

namespace allmende::notify {

std::unique_ptr<Transport> makeHttpSender(const RetryPolicy& retry, OutcomeFn outcome);

}  // namespace allmende::notify
