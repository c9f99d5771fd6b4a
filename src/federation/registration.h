// Context source registrations (ETSI GS CIM 009 v1.8 clause 5.2.9 CSourceRegistration, 5.2.10
// RegistrationInfo, 5.2.8 EntityInfo, 4.3.6 registration modes, 4.20 operations and operation
// groups) in the internal form: every term (types, property and relationship names) expanded to
// its IRI, as entities are below api/. The forwarder (distributed operations) asks
// `matchingRegistrations` which registrations a request must reach.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"

namespace allmende::federation {

// NGSI-LD 4.3.6: how the registered information relates to what the broker holds itself.
enum class Mode : uint8_t {
  kInclusive,  // the default: the source's data is added to the broker's own
  kExclusive,  // only the source holds the registered attributes of the registered entities
  kRedirect,   // the source (and not the broker) holds everything the registration covers
  kAuxiliary,  // a fallback: only used when nothing else answers, never for writes
};

// The operations of NGSI-LD 4.20 (Table 4.20-1) a context source may support. The values are
// indices into OperationSet; new ones are appended before kCount.
enum class Operation : uint8_t {
  kCreateEntity,
  kUpdateEntity,
  kAppendAttrs,
  kUpdateAttrs,
  kDeleteAttrs,
  kDeleteEntity,
  kCreateBatch,
  kUpsertBatch,
  kUpdateBatch,
  kDeleteBatch,
  kUpsertTemporal,
  kAppendAttrsTemporal,
  kDeleteAttrsTemporal,
  kUpdateAttrInstanceTemporal,
  kDeleteAttrInstanceTemporal,
  kDeleteTemporal,
  kMergeEntity,
  kReplaceEntity,
  kReplaceAttrs,
  kMergeBatch,
  kRetrieveEntity,
  kQueryEntity,
  kQueryBatch,
  kRetrieveTemporal,
  kQueryTemporal,
  kRetrieveEntityTypes,
  kRetrieveEntityTypeDetails,
  kRetrieveEntityTypeInfo,
  kRetrieveAttrTypes,
  kRetrieveAttrTypeDetails,
  kRetrieveAttrTypeInfo,
  kCreateSubscription,
  kUpdateSubscription,
  kRetrieveSubscription,
  kQuerySubscription,
  kDeleteSubscription,
  kCount
};
using OperationSet = std::bitset<static_cast<size_t>(Operation::kCount)>;

// The spec's name of an operation ("createEntity") and back; nullopt for an unknown name.
std::string_view operationName(Operation op);
std::optional<Operation> operationFromName(std::string_view name);
// The members of an operation group of NGSI-LD 4.20 Table 4.20-2 ("federationOps", "updateOps",
// "retrieveOps", "redirectionOps"); nullopt for a name that is no group.
std::optional<OperationSet> operationGroup(std::string_view name);
// Names (operations or groups, as in `operations` of 5.2.9) -> the operations they stand for.
// BadRequestData naming the first unknown name.
Result<OperationSet> expandOperations(const std::vector<std::string>& names);

// Whether `ops` holds read operations only (what an auxiliary registration may offer).
bool onlyReadOperations(const OperationSet& ops);

std::string_view modeName(Mode mode);
std::optional<Mode> modeFromName(std::string_view name);

// NGSI-LD 5.2.8. `types` are expanded IRIs (one or more: an entity matches with any of them).
struct EntityInfo {
  std::optional<std::string> id;
  std::optional<std::string> idPattern;  // a regular expression (ECMAScript, whole id)
  std::vector<std::string> types;
};

// NGSI-LD 5.2.10. Empty `propertyNames` and `relationshipNames` (both): every attribute.
struct RegistrationInfo {
  std::vector<EntityInfo> entities;            // empty: entities of any type and id
  std::vector<std::string> propertyNames;      // expanded IRIs
  std::vector<std::string> relationshipNames;  // expanded IRIs
};

// NGSI-LD 5.2.11 TimeInterval: both ends optional at parse time, `startAt` required by 5.2.9.
struct TimeInterval {
  Micros startAt = 0;
  std::optional<Micros> endAt;
};

// NGSI-LD 5.2.34 KeyValuePair of contextSourceInfo (forwarded as headers to the source).
struct KeyValue {
  std::string key;
  std::string value;
};

// NGSI-LD 5.2.34 RegistrationManagementInfo (what the forwarder applies per source).
struct RegistrationManagement {
  std::optional<bool> localOnly;
  std::optional<int64_t> cacheDurationMillis;
  std::optional<int64_t> timeoutMillis;   // per-source timeout of a forwarded request
  std::optional<int64_t> cooldownMillis;  // after a failure, how long to leave the source alone
};

// The delivery state of a registration the broker keeps (5.2.9: status, timesSent,
// timesFailed, lastSuccess, lastFailure). Kept in memory by the forwarder, shown by GET.
struct RegistrationStatus {
  uint64_t timesSent = 0;
  uint64_t timesFailed = 0;
  std::optional<Micros> lastSuccess;
  std::optional<Micros> lastFailure;
};

// NGSI-LD 5.2.9 CSourceRegistration in the internal form.
struct Registration {
  std::string ownerTenant;  // the tenant (NGSILD-Tenant) the registration was made in
  std::string id;           // a URI
  std::string type = "ContextSourceRegistration";
  std::string registrationName;               // "" = absent
  std::string description;                    // "" = absent
  std::vector<RegistrationInfo> information;  // non-empty
  std::string endpoint;                       // the source's base URI (absolute http/https)
  Mode mode = Mode::kInclusive;
  // What the source supports: the `operations` members as given, and what they expand to
  // (default: federationOps).
  std::vector<std::string> operationNames;
  OperationSet operations;
  std::vector<KeyValue> contextSourceInfo;
  std::optional<std::string> tenant;            // the tenant at the source to address ("tenant" of 5.2.9)
  std::vector<std::string> scopes;              // "/a/b"
  std::optional<std::string> location;          // GeoJSON geometry, JSON text
  std::optional<std::string> observationSpace;  // GeoJSON geometry, JSON text
  std::optional<std::string> operationSpace;    // GeoJSON geometry, JSON text
  std::optional<TimeInterval> observationInterval;
  std::optional<TimeInterval> managementInterval;
  std::optional<Micros> expiresAt;
  std::optional<int64_t> refreshRateMillis;
  RegistrationManagement management;
  // Other members (5.2.9: a registration may carry further properties): expanded name -> JSON
  // text of the value, in the order given. `q` of the query operation reads them.
  std::vector<std::pair<std::string, std::string>> properties;
  Micros createdAt = 0;
  Micros modifiedAt = 0;

  // Expired (expiresAt passed) registrations are kept until deleted but never match.
  bool expired(Micros now) const { return expiresAt && *expiresAt <= now; }
  // Whether the source supports `op`.
  bool supports(Operation op) const { return operations.test(static_cast<size_t>(op)); }
};

// What a request selects, in expanded form: the input of matching (NGSI-LD 4.3.6.x: a request
// matches a registration when the operation is supported and one RegistrationInfo overlaps the
// request's entities and attributes; then location, scope and time restrict further).
struct RequestSelector {
  std::vector<std::string> ids;  // empty: any id
  std::optional<std::string> idPattern;
  std::vector<std::string> types;       // expanded; empty: any type (one of them is enough)
  std::vector<std::string> attrs;       // expanded; empty: all attributes
  std::optional<std::string> geometry;  // GeoJSON text of the geoQ's reference geometry, if any
  std::optional<std::string> scopeQ;    // the request's scopeQ text, if any
  // A temporal request's time range [from, to) on observationInterval (nullopt: not temporal).
  std::optional<std::pair<Micros, Micros>> observedRange;
};

class RegistrationStore;  // federation/registration_store.h

// The registrations of `tenant` that a request of operation `op` selecting `selector` must be
// forwarded to, per NGSI-LD's matching rules; expired ones excluded; in id order. Fails only when
// the store does.
Result<std::vector<Registration>> matchingRegistrations(const RegistrationStore& store, const std::string& tenant,
                                                        Operation op, const RequestSelector& selector, Micros now);

// The pure matching rule for one registration (what matchingRegistrations applies to each).
bool registrationMatches(const Registration& r, Operation op, const RequestSelector& selector, Micros now);

// The part of the rule that does not depend on the operation, time or expiry: whether what `r`
// registers (information, location, scope, observationInterval) overlaps `selector`.
bool registrationOverlaps(const Registration& r, const RequestSelector& selector);

// The attributes to request from the source of `r` for `selector`: the selector's attrs
// restricted to what the matching RegistrationInfos register; empty = all (no restriction).
std::vector<std::string> registeredAttrs(const Registration& r, const RequestSelector& selector);

}  // namespace allmende::federation
