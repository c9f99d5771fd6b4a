// Registrations: operations and groups, reading and validation, the internal form, and the
// matching rules the forwarder relies on (NGSI-LD 4.3.6, 4.20, 5.2.8 - 5.2.10).
#include "federation/registration.h"

#include <gtest/gtest.h>

#include <set>

#include "federation/registration_json.h"
#include "federation/registration_query.h"

namespace allmende::federation {
namespace {

constexpr Micros kNow = 1'780'000'000'000'000;  // 2026-05-28

std::string ex(std::string_view t) {
  if (t.find(':') != std::string_view::npos) return std::string(t);
  return "https://example.org/" + std::string(t);
}

Registration parse(const std::string& text, Status* error = nullptr) {
  JsonDocument d;
  EXPECT_TRUE(parseJson(text, d).isOk()) << text;
  auto r = parseRegistration(d, ex, "t", kNow);
  if (error) {
    *error = r ? Status::ok() : r.status();
    return r ? *r : Registration{};
  }
  EXPECT_TRUE(r) << r.status().toString();
  return r ? *r : Registration{};
}

Status parseError(const std::string& text) {
  Status st;
  parse(text, &st);
  return st;
}

RequestSelector sel(std::vector<std::string> types, std::vector<std::string> ids = {},
                    std::vector<std::string> attrs = {}) {
  RequestSelector s;
  for (auto& t : types) s.types.push_back(ex(t));
  s.ids = std::move(ids);
  for (auto& a : attrs) s.attrs.push_back(ex(a));
  return s;
}

TEST(Operations, NamesRoundTrip) {
  for (size_t i = 0; i < static_cast<size_t>(Operation::kCount); ++i) {
    auto op = static_cast<Operation>(i);
    EXPECT_EQ(operationFromName(operationName(op)), op);
  }
  EXPECT_FALSE(operationFromName("fly"));
}

TEST(Operations, GroupsExpand) {
  auto retrieve = expandOperations({"retrieveOps"});
  ASSERT_TRUE(retrieve);
  EXPECT_EQ(retrieve->count(), 2u);
  EXPECT_TRUE(retrieve->test(static_cast<size_t>(Operation::kRetrieveEntity)));
  EXPECT_TRUE(retrieve->test(static_cast<size_t>(Operation::kQueryEntity)));
  auto redirect = expandOperations({"redirectionOps"});
  ASSERT_TRUE(redirect);
  EXPECT_TRUE(redirect->test(static_cast<size_t>(Operation::kCreateEntity)));
  EXPECT_TRUE(redirect->test(static_cast<size_t>(Operation::kDeleteEntity)));
  auto fed = expandOperations({"federationOps"});
  ASSERT_TRUE(fed);
  EXPECT_FALSE(fed->test(static_cast<size_t>(Operation::kCreateEntity)));
  EXPECT_TRUE(fed->test(static_cast<size_t>(Operation::kCreateSubscription)));
  auto mixed = expandOperations({"updateOps", "queryTemporal"});
  ASSERT_TRUE(mixed);
  EXPECT_TRUE(mixed->test(static_cast<size_t>(Operation::kQueryTemporal)));
  EXPECT_TRUE(mixed->test(static_cast<size_t>(Operation::kUpdateAttrs)));
  EXPECT_FALSE(expandOperations({"fly"}));
  EXPECT_TRUE(onlyReadOperations(*retrieve));
  EXPECT_FALSE(onlyReadOperations(*redirect));
}

// NGSI-LD 4.20 Table 4.20-2: each group stands for exactly its members.
TEST(Operations, EachGroupHoldsExactlyItsTableMembers) {
  using enum Operation;
  auto names = [](std::string_view group) {
    std::set<std::string> out;
    auto set = operationGroup(group);
    EXPECT_TRUE(set) << group;
    for (size_t i = 0; set && i < static_cast<size_t>(kCount); ++i) {
      if (set->test(i)) out.insert(std::string(operationName(static_cast<Operation>(i))));
    }
    return out;
  };
  EXPECT_EQ(names("retrieveOps"), (std::set<std::string>{"retrieveEntity", "queryEntity"}));
  EXPECT_EQ(names("updateOps"),
            (std::set<std::string>{"updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"}));
  EXPECT_EQ(
      names("federationOps"),
      (std::set<std::string>{"retrieveEntity", "queryEntity", "queryBatch", "retrieveEntityTypes",
                             "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes",
                             "retrieveAttrTypeDetails", "retrieveAttrTypeInfo", "createSubscription",
                             "updateSubscription", "retrieveSubscription", "querySubscription", "deleteSubscription"}));
  EXPECT_EQ(names("redirectionOps"),
            (std::set<std::string>{"createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs",
                                   "deleteEntity", "mergeEntity", "replaceEntity", "replaceAttrs", "retrieveEntity",
                                   "queryEntity", "retrieveEntityTypes", "retrieveEntityTypeDetails",
                                   "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails",
                                   "retrieveAttrTypeInfo"}));
  // The batch operations are named beside a group when a source takes them.
  auto withBatches = expandOperations({"redirectionOps", "createBatch", "deleteBatch"});
  ASSERT_TRUE(withBatches);
  EXPECT_TRUE(withBatches->test(static_cast<size_t>(kCreateBatch)));
  EXPECT_FALSE(withBatches->test(static_cast<size_t>(kUpsertBatch)));
  EXPECT_FALSE(operationGroup("allOps"));
}

TEST(RegistrationJson, DefaultsAndExpansion) {
  auto r = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.example.org",
    "information": [{"entities": [{"type": "Car"}], "propertyNames": ["speed"]}]})");
  EXPECT_EQ(r.id.rfind("urn:ngsi-ld:ContextSourceRegistration:", 0), 0u);
  EXPECT_EQ(r.mode, Mode::kInclusive);
  EXPECT_EQ(r.operationNames, std::vector<std::string>{"federationOps"});
  EXPECT_TRUE(r.supports(Operation::kQueryEntity));
  EXPECT_FALSE(r.supports(Operation::kCreateEntity));
  ASSERT_EQ(r.information.size(), 1u);
  EXPECT_EQ(r.information[0].entities[0].types[0], "https://example.org/Car");
  EXPECT_EQ(r.information[0].propertyNames[0], "https://example.org/speed");
  EXPECT_EQ(r.createdAt, kNow);
}

TEST(RegistrationJson, InternalFormRoundTrips) {
  auto r = parse(R"({"id": "urn:r:1", "type": "ContextSourceRegistration", "endpoint": "https://a.example.org/x",
    "registrationName": "n", "description": "d", "mode": "redirect", "operations": ["redirectionOps"],
    "information": [{"entities": [{"type": ["Car", "Bus"], "idPattern": "^urn:c"}], "relationshipNames": ["owner"]},
                    {"propertyNames": ["temperature"]}],
    "contextSourceInfo": [{"key": "k", "value": "v"}], "tenant": "remote", "scope": ["/a", "/b/c"],
    "location": {"type": "Point", "coordinates": [1, 2]}, "observationSpace": {"type": "Point", "coordinates": [3, 4]},
    "observationInterval": {"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-01T00:00:00Z"},
    "managementInterval": {"startAt": "2026-01-01T00:00:00Z"}, "expiresAt": "2030-01-01T00:00:00Z",
    "management": {"localOnly": true, "timeout": 1500, "cooldown": 100}, "extra": {"value": 1}})");
  std::string text = toInternalJson(r);
  auto back = fromInternalJson("t", text);
  ASSERT_TRUE(back) << back.status().toString();
  EXPECT_EQ(toInternalJson(*back), text);
  EXPECT_EQ(back->mode, Mode::kRedirect);
  EXPECT_EQ(back->tenant, "remote");
  EXPECT_EQ(back->scopes.size(), 2u);
  EXPECT_EQ(back->management.timeoutMillis, 1500);
  EXPECT_EQ(back->properties.size(), 1u);
  EXPECT_EQ(back->properties[0].first, "https://example.org/extra");
  EXPECT_EQ(back->createdAt, kNow);
}

TEST(RegistrationJson, CompactsWithTheGivenFunction) {
  auto r = parse(R"({"id": "urn:r:1", "type": "ContextSourceRegistration", "endpoint": "http://a.example.org",
    "information": [{"entities": [{"type": "Car"}], "propertyNames": ["speed"]}]})");
  JsonBuffer buf;
  JsonWriter w(buf);
  writeRegistration(w, r, [](std::string_view iri) { return std::string(iri.substr(iri.rfind('/') + 1)); }, {});
  std::string out(buf.GetString(), buf.GetSize());
  EXPECT_NE(out.find(R"("entities":[{"type":"Car"}],"propertyNames":["speed"])"), std::string::npos) << out;
  EXPECT_EQ(out.find("createdAt"), std::string::npos);
}

TEST(RegistrationJson, Validation) {
  const std::string info = R"("information": [{"entities": [{"type": "A"}]}])";
  EXPECT_EQ(parseError(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org"})").detail(),
            "information: required");
  EXPECT_EQ(parseError(R"({"type": "ContextSourceRegistration", )" + info + "}").detail(), "endpoint: required");
  EXPECT_FALSE(parseError(R"({"type": "X", "endpoint": "http://a.org", )" + info + "}").isOk());
  EXPECT_FALSE(parseError(R"({"type": "ContextSourceRegistration", "endpoint": "a.org", )" + info + "}").isOk());
  EXPECT_FALSE(
      parseError(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "mode": "x", )" + info + "}")
          .isOk());
  EXPECT_FALSE(parseError(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "mode": "auxiliary",
    "operations": ["createEntity"], )" +
                          info + "}")
                   .isOk());
  EXPECT_FALSE(parseError(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "mode": "exclusive",
    "information": [{"entities": [{"type": "A", "id": "urn:a"}]}]})")
                   .isOk());
  EXPECT_TRUE(parseError(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "mode": "exclusive",
    "information": [{"entities": [{"type": "A", "id": "urn:a"}], "propertyNames": ["p"]}]})")
                  .isOk());
  for (auto st : {parseError("[]"), parseError(R"({"type": "ContextSourceRegistration"})")}) {
    EXPECT_FALSE(st.isOk());
  }
}

TEST(RegistrationJson, PatchReplacesMembersAndKeepsIdentity) {
  auto r = parse(R"({"id": "urn:r:1", "type": "ContextSourceRegistration", "endpoint": "http://a.example.org",
    "registrationName": "n", "information": [{"entities": [{"type": "Car"}]}]})");
  JsonDocument f;
  ASSERT_TRUE(parseJson(R"({"endpoint": "http://b.example.org", "registrationName": null})", f).isOk());
  auto p = patchRegistration(r, f, ex, kNow + 5);
  ASSERT_TRUE(p) << p.status().toString();
  EXPECT_EQ(p->endpoint, "http://b.example.org");
  EXPECT_EQ(p->registrationName, "");
  EXPECT_EQ(p->createdAt, kNow);
  EXPECT_EQ(p->modifiedAt, kNow + 5);
  ASSERT_TRUE(parseJson(R"({"id": "urn:r:2"})", f).isOk());
  EXPECT_FALSE(patchRegistration(r, f, ex, kNow));
  ASSERT_TRUE(parseJson(R"({"endpoint": null})", f).isOk());
  EXPECT_FALSE(patchRegistration(r, f, ex, kNow));
}

// --- matching -------------------------------------------------------------------------------

TEST(Matching, TypesIdsAndPatterns) {
  auto byType = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}]}]})");
  EXPECT_TRUE(registrationMatches(byType, Operation::kQueryEntity, sel({"Car"}), kNow));
  EXPECT_FALSE(registrationMatches(byType, Operation::kQueryEntity, sel({"Bus"}), kNow));
  EXPECT_TRUE(registrationMatches(byType, Operation::kQueryEntity, sel({"Bus", "Car"}), kNow));
  EXPECT_TRUE(registrationMatches(byType, Operation::kRetrieveEntity, sel({}, {"urn:c:1"}), kNow));

  auto byId = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car", "id": "urn:c:1"}]}]})");
  EXPECT_TRUE(registrationMatches(byId, Operation::kRetrieveEntity, sel({}, {"urn:c:1"}), kNow));
  EXPECT_FALSE(registrationMatches(byId, Operation::kRetrieveEntity, sel({}, {"urn:c:2"}), kNow));
  RequestSelector pattern = sel({"Car"});
  pattern.idPattern = "^urn:c:";
  EXPECT_TRUE(registrationMatches(byId, Operation::kQueryEntity, pattern, kNow));
  pattern.idPattern = "^urn:d:";
  EXPECT_FALSE(registrationMatches(byId, Operation::kQueryEntity, pattern, kNow));

  auto byPattern = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car", "idPattern": "^urn:c:[0-4]$"}]}]})");
  EXPECT_TRUE(registrationMatches(byPattern, Operation::kRetrieveEntity, sel({}, {"urn:c:3"}), kNow));
  EXPECT_FALSE(registrationMatches(byPattern, Operation::kRetrieveEntity, sel({}, {"urn:c:7"}), kNow));
  pattern.idPattern = "anything";  // two patterns may overlap: matched
  EXPECT_TRUE(registrationMatches(byPattern, Operation::kQueryEntity, pattern, kNow));
}

TEST(Matching, AttributesAndRegisteredAttrs) {
  auto r = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}], "propertyNames": ["speed"], "relationshipNames": ["owner"]}]})");
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}, {}, {"speed"}), kNow));
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}, {}, {"owner", "color"}), kNow));
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}, {}, {"color"}), kNow));
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}), kNow));  // all attrs asked
  EXPECT_EQ(registeredAttrs(r, sel({"Car"}, {}, {"owner", "color"})), std::vector<std::string>{ex("owner")});
  EXPECT_EQ(registeredAttrs(r, sel({"Car"})), (std::vector<std::string>{ex("speed"), ex("owner")}));

  auto attrsOnly = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"propertyNames": ["temperature"]}]})");
  EXPECT_TRUE(registrationMatches(attrsOnly, Operation::kQueryEntity, sel({"Anything"}), kNow));
  EXPECT_FALSE(registrationMatches(attrsOnly, Operation::kQueryEntity, sel({"Anything"}, {}, {"speed"}), kNow));
  auto all = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}]}]})");
  EXPECT_EQ(registeredAttrs(all, sel({"Car"}, {}, {"speed"})), std::vector<std::string>{ex("speed")});
  EXPECT_TRUE(registeredAttrs(all, sel({"Car"})).empty());
}

TEST(Matching, OperationsModesAndExpiry) {
  auto r = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "operations": ["retrieveOps"],
    "information": [{"entities": [{"type": "Car"}]}], "expiresAt": "2026-06-01T00:00:00Z"})");
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}), kNow));
  EXPECT_FALSE(registrationMatches(r, Operation::kCreateEntity, sel({"Car"}), kNow));
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryTemporal, sel({"Car"}), kNow));
  auto after = *parseDateTime("2026-06-01T00:00:00Z");
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryEntity, sel({"Car"}), after));

  auto aux = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org", "mode": "auxiliary",
    "operations": ["retrieveOps"], "information": [{"entities": [{"type": "Car"}]}]})");
  aux.operations.set();  // even if written to the store with write operations, never written to
  EXPECT_FALSE(registrationMatches(aux, Operation::kUpdateEntity, sel({"Car"}), kNow));
  EXPECT_TRUE(registrationMatches(aux, Operation::kRetrieveEntity, sel({"Car"}), kNow));
}

TEST(Matching, LocationScopeAndTime) {
  auto r = parse(R"({"type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}]}], "scope": "/Bavaria/Munich",
    "location": {"type": "Polygon", "coordinates": [[[11, 48], [12, 48], [12, 49], [11, 49], [11, 48]]]},
    "observationInterval": {"startAt": "2026-01-01T00:00:00Z", "endAt": "2026-02-01T00:00:00Z"}})");
  RequestSelector s = sel({"Car"});
  s.geometry = R"({"type": "Point", "coordinates": [11.5, 48.5]})";
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, s, kNow));
  s.geometry = R"({"type": "Point", "coordinates": [13.4, 52.5]})";
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryEntity, s, kNow));
  s.geometry.reset();
  s.scopeQ = "/Bavaria/#";
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryEntity, s, kNow));
  s.scopeQ = "/Berlin";
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryEntity, s, kNow));
  s.scopeQ.reset();
  s.observedRange = {*parseDateTime("2026-01-15T00:00:00Z"), *parseDateTime("2026-03-01T00:00:00Z")};
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryTemporal, s, kNow));  // not in federationOps
  r.operations.set();
  EXPECT_TRUE(registrationMatches(r, Operation::kQueryTemporal, s, kNow));
  s.observedRange = {*parseDateTime("2026-03-01T00:00:00Z"), *parseDateTime("2026-04-01T00:00:00Z")};
  EXPECT_FALSE(registrationMatches(r, Operation::kQueryTemporal, s, kNow));
}

TEST(Matching, ModeConflicts) {
  auto ex1 = parse(R"({"id": "urn:r:1", "type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "mode": "exclusive", "information": [{"entities": [{"type": "Car", "id": "urn:c:1"}], "propertyNames": ["speed"]}]})");
  auto ex2 = parse(R"({"id": "urn:r:2", "type": "ContextSourceRegistration", "endpoint": "http://b.org",
    "mode": "exclusive", "information": [{"entities": [{"type": "Car", "id": "urn:c:1"}], "propertyNames": ["speed", "x"]}]})");
  auto other = parse(R"({"id": "urn:r:3", "type": "ContextSourceRegistration", "endpoint": "http://b.org",
    "mode": "exclusive", "information": [{"entities": [{"type": "Car", "id": "urn:c:2"}], "propertyNames": ["speed"]}]})");
  auto redirect = parse(R"({"id": "urn:r:4", "type": "ContextSourceRegistration", "endpoint": "http://c.org",
    "mode": "redirect", "information": [{"entities": [{"type": "Car", "idPattern": "urn:c:.*"}]}]})");
  auto inclusive = parse(R"({"id": "urn:r:5", "type": "ContextSourceRegistration", "endpoint": "http://c.org",
    "information": [{"entities": [{"type": "Car", "id": "urn:c:1"}], "propertyNames": ["speed"]}]})");
  EXPECT_EQ(checkModeConflicts(ex2, {ex1}, kNow).type(), ErrorType::kConflict);
  EXPECT_TRUE(checkModeConflicts(other, {ex1}, kNow).isOk());
  EXPECT_EQ(checkModeConflicts(redirect, {ex1}, kNow).type(), ErrorType::kConflict);
  EXPECT_EQ(checkModeConflicts(ex1, {redirect}, kNow).type(), ErrorType::kConflict);
  EXPECT_TRUE(checkModeConflicts(inclusive, {ex1, redirect}, kNow).isOk());
  EXPECT_TRUE(checkModeConflicts(ex1, {ex1, inclusive}, kNow).isOk());  // itself (an update)
}

TEST(RegistrationQuery, QOnPropertiesAndTypeSelection) {
  auto r = parse(R"({"id": "urn:r:1", "type": "ContextSourceRegistration", "endpoint": "http://a.org",
    "information": [{"entities": [{"type": "Car"}]}], "capacity": 10,
    "contextSourceInfo": [{"key": "operator", "value": "SWM"}]})");
  RegistrationQuery q;
  auto q1 = query::parseQ("capacity>5", ex);
  ASSERT_TRUE(q1);
  q.q = std::move(*q1);
  EXPECT_TRUE(selects(q, r, ex));
  auto q2 = query::parseQ("capacity>50", ex);
  q.q = std::move(*q2);
  EXPECT_FALSE(selects(q, r, ex));
  q.q.reset();
  auto csf = query::parseQ("operator==\"SWM\"", ex);
  q.csf = std::move(*csf);
  EXPECT_TRUE(selects(q, r, ex));
  auto types = query::parseTypeSelector("(Car;Bus)", ex);
  q.types = std::move(*types);
  EXPECT_FALSE(selects(q, r, ex));
  auto types2 = query::parseTypeSelector("Bus|Car", ex);
  q.types = std::move(*types2);
  EXPECT_TRUE(selects(q, r, ex));
}

}  // namespace
}  // namespace allmende::federation
