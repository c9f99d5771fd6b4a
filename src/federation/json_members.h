// The members registrations and csourceSubscriptions have in common, read and written one way:
// typed member readers that fail with BadRequestData naming the member, EntityInfo (NGSI-LD
// 5.2.8), generated ids.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/time.h"
#include "federation/registration.h"
#include "federation/registration_json.h"

namespace allmende::federation::members {

// BadRequestData "<member>: <what>".
Status bad(std::string_view member, const std::string& what);
// 24 random hex digits, the end of a generated id.
std::string randomSuffix();

Result<std::string> nonEmptyString(const Json& v, std::string_view name);
Result<std::string> uri(const Json& v, std::string_view name);
// A non-empty string or a non-empty array of them.
Result<std::vector<std::string>> strings(const Json& v, std::string_view name);
// The same, each an attribute or type name (or IRI), expanded.
Result<std::vector<std::string>> names(const Json& v, std::string_view name, const TermFn& expand);
Result<Micros> dateTime(const Json& v, std::string_view name);
// NGSI-LD 5.2.8 EntityInfo, members named "<where>.id" etc. in errors.
Result<EntityInfo> entityInfo(const Json& v, const TermFn& expand, std::string_view where);

// NGSI-LD 5.2.8 EntityInfo: id, idPattern, type (compacted; one type as a plain string).
void writeEntityInfo(JsonWriter& w, const EntityInfo& e, const TermFn& compact);
// A JSON array of the strings mapped by `f`; one alone as a plain string when `singleAsString`.
void writeStrings(JsonWriter& w, const std::vector<std::string>& v, const TermFn& f, bool singleAsString = false);

}  // namespace allmende::federation::members
