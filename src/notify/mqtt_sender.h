// The MQTT transport (libmosquitto): one client connection per broker (host and port of the
// endpoint URI mqtt://host:port/topic), one notification in flight per broker connection so they
// are published in order; a notification counts as delivered when the broker acknowledged it
// (QoS 1 or 2) or it was written (QoS 0). NGSI-LD 7.? MQTT binding: the payload is an object with
// "metadata" (what HTTP would send as headers) and "body" (the Notification).
#pragma once

#include <memory>

#include "common/egress.h"
#include "notify/transport.h"

namespace allmende::notify {

// mqtt:// and mqtts:// (TLS; the broker's certificate and host name verified against the
// system's CAs, or only those of `caFile` when it is not empty).
// Every address an endpoint's host resolves to is checked against `egress` (null = any) and only
// those that pass are connected to; a refused endpoint's notification is given up at once.
std::unique_ptr<Transport> makeMqttSender(const RetryPolicy& retry, const std::string& caFile, OutcomeFn outcome,
                                          std::shared_ptr<const EgressPolicy> egress = nullptr);

}  // namespace allmende::notify
