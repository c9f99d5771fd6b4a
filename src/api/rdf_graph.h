// A small RDF graph and its serializations (Turtle, RDF/XML, JSON-LD) for the open-data
// catalogue (api/open_catalog.h). Subjects are IRIs; objects IRIs or literals (with a language
// or a datatype). Triples keep their insertion order; serializers group them by subject.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace allmende::api::rdf {

struct Term {
  enum class Kind { kIri, kLiteral } kind = Kind::kIri;
  std::string value;
  std::string lang;      // literals only, "" = none
  std::string datatype;  // literals only, full IRI, "" = xsd:string
};

inline Term iri(std::string v) { return {Term::Kind::kIri, std::move(v), "", ""}; }
inline Term literal(std::string v, std::string lang = "") {
  return {Term::Kind::kLiteral, std::move(v), std::move(lang), ""};
}
inline Term typed(std::string v, std::string datatype) {
  return {Term::Kind::kLiteral, std::move(v), "", std::move(datatype)};
}

struct Triple {
  std::string subject;
  std::string predicate;
  Term object;
};

// Namespace prefixes used to abbreviate IRIs (prefix, namespace IRI).
using Prefixes = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char* kRdfType = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

class Graph {
 public:
  void add(const std::string& s, const std::string& p, Term o) { triples_.push_back({s, p, std::move(o)}); }
  const std::vector<Triple>& triples() const { return triples_; }

 private:
  std::vector<Triple> triples_;
};

// Every predicate must lie in one of `prefixes` (RDF/XML cannot write it otherwise; such
// triples are skipped there).
std::string toTurtle(const Graph& g, const Prefixes& prefixes);
std::string toRdfXml(const Graph& g, const Prefixes& prefixes);
// JSON-LD with a context of the prefixes and an @graph of node objects.
std::string toJsonLd(const Graph& g, const Prefixes& prefixes);

}  // namespace allmende::api::rdf
