// The HTTP(S) transport: one Asio thread, a keep-alive HTTP/1.1 connection per lane (endpoint and
// entity hash), each lane a queue delivered in order with retries and backoff. A slow or dead
// receiver only holds its own lanes.
#pragma once

#include <memory>

#include "notify/transport.h"

namespace allmende::notify {

// http:// and https:// endpoints; https verifies the receiver's certificate and host name
// against the system's CAs and, when `caFile` is not empty, the CAs in that PEM file.
std::unique_ptr<Transport> makeHttpSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome);

}  // namespace allmende::notify
