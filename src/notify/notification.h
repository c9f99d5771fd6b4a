// Rendering notifications (NGSI-LD 5.3.1 Notification): the entity of one change as the
// subscription asks for it (format, attributes, sysAttrs, lang, @context), and the envelope
// around it at sending time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "notify/subscription.h"
#include "store/notification_store.h"

namespace allmende::notify {

// The `data` element for the entity after a change (`after` null: the entity was deleted, and
// `before` gives its id and type; NGSI-LD 5.2.12 entityDeleted).
std::string renderData(const Subscription& s, const Json* before, const Json* after, Micros now);

// An HTTP notification: body, Content-Type and the extra headers (Link, NGSILD-Tenant,
// receiverInfo).
struct RenderedNotification {
  std::string body;
  std::string contentType;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The Notification for one outbox row: id (stable per row, so a receiver can drop a repeated
// delivery), type, subscriptionId, notifiedAt, data.
RenderedNotification renderNotification(const Subscription& s, const store::OutboxRow& row, Micros notifiedAt);
// The same for several entities at once (periodic notifications); `data` are rendered elements.
RenderedNotification renderNotification(const Subscription& s, const std::string& notificationId,
                                        const std::vector<std::string>& data, Micros notifiedAt);

}  // namespace allmende::notify
