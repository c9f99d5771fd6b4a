// The HTTP(S) transport: one Asio thread, a keep-alive HTTP/1.1 connection per lane (endpoint and
// entity hash), each lane a queue delivered in order with retries and backoff. A slow or dead
// receiver only holds its own lanes.
#pragma once

#include <memory>

#include "common/egress.h"
#include "notify/transport.h"

namespace allmende::notify {

// http:// and https:// endpoints; https verifies the receiver's certificate and host name
// against the system's CAs and, when `caFile` is not empty, the CAs in that PEM file.
// Every address an endpoint's host resolves to is checked against `egress` (null = any) and only
// those that pass are connected to; a refused endpoint's notification is given up at once.
std::unique_ptr<Transport> makeHttpSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
                                          std::shared_ptr<const EgressPolicy> egress = nullptr);

}  // namespace allmende::notify
