#include "api/rdf_graph.h"

#include <algorithm>
#include <map>

#include "common/json.h"

namespace allmende::api::rdf {

namespace {

// Subjects in order of first appearance, each with its triples' indexes.
std::vector<std::pair<std::string, std::vector<size_t>>> bySubject(const Graph& g) {
  std::vector<std::pair<std::string, std::vector<size_t>>> out;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < g.triples().size(); ++i) {
    const std::string& s = g.triples()[i].subject;
    auto [it, added] = index.emplace(s, out.size());
    if (added) out.push_back({s, {}});
    out[it->second].second.push_back(i);
  }
  return out;
}

bool isLocalNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// (prefix, local) when `iri` lies in a namespace of `prefixes` with a plain local name.
bool abbreviate(const std::string& iri, const Prefixes& prefixes, std::string& prefix, std::string& local) {
  for (const auto& [p, ns] : prefixes) {
    if (iri.size() <= ns.size() || iri.compare(0, ns.size(), ns) != 0) continue;
    std::string rest = iri.substr(ns.size());
    bool plain = rest[0] != '-';
    for (char c : rest) plain = plain && isLocalNameChar(c);
    if (!plain) continue;
    prefix = p;
    local = std::move(rest);
    return true;
  }
  return false;
}

void appendHex4(std::string& out, unsigned c) {
  static const char* kHex = "0123456789ABCDEF";
  out += "\\u00";
  out += kHex[(c >> 4) & 0xF];
  out += kHex[c & 0xF];
}

// Turtle STRING_LITERAL_QUOTE escaping (RDF 1.1 Turtle 6.4 ECHAR, UCHAR).
std::string turtleString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F)
          appendHex4(out, c);
        else
          out += ch;
    }
  }
  return out + "\"";
}

// IRIREF: characters Turtle forbids inside <...> are %-escaped (they cannot occur in a valid
// IRI; our IRIs are built from checked ids, this is the last line of defence).
std::string turtleIri(const std::string& iri) {
  std::string out = "<";
  for (char ch : iri) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || ch == '<' || ch == '>' || ch == '"' || ch == '{' || ch == '}' || ch == '|' || ch == '^' ||
        ch == '`' || ch == '\\') {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + ">";
}

std::string turtleTerm(const Term& t, const Prefixes& prefixes) {
  if (t.kind == Term::Kind::kIri) {
    std::string p, l;
    return abbreviate(t.value, prefixes, p, l) ? p + ":" + l : turtleIri(t.value);
  }
  std::string out = turtleString(t.value);
  if (!t.lang.empty()) return out + "@" + t.lang;
  if (!t.datatype.empty()) return out + "^^" + turtleTerm(iri(t.datatype), prefixes);
  return out;
}

// XML 1.0 character data; characters XML cannot carry (C0 controls but tab/LF/CR) are dropped.
std::string xmlEscape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (c < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') break;
        out += ch;
    }
  }
  return out;
}

}  // namespace

std::string toTurtle(const Graph& g, const Prefixes& prefixes) {
  std::string out;
  for (const auto& [p, ns] : prefixes) out += "@prefix " + p + ": " + turtleIri(ns) + " .\n";
  for (const auto& [subject, indexes] : bySubject(g)) {
    out += "\n" + turtleIri(subject);
    const char* sep = "\n    ";
    for (size_t i : indexes) {
      const Triple& t = g.triples()[i];
      std::string pred = t.predicate == kRdfType ? "a" : turtleTerm(iri(t.predicate), prefixes);
      out += sep + pred + " " + turtleTerm(t.object, prefixes);
      sep = " ;\n    ";
    }
    out += " .\n";
  }
  return out;
}

std::string toRdfXml(const Graph& g, const Prefixes& prefixes) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF";
  bool hasRdf = false;
  for (const auto& [p, ns] : prefixes) {
    hasRdf = hasRdf || p == "rdf";
    out += "\n    xmlns:" + p + "=\"" + xmlEscape(ns) + "\"";
  }
  if (!hasRdf) out += "\n    xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"";
  out += ">\n";
  for (const auto& [subject, indexes] : bySubject(g)) {
    out += "  <rdf:Description rdf:about=\"" + xmlEscape(subject) + "\">\n";
    for (size_t i : indexes) {
      const Triple& t = g.triples()[i];
      std::string p, l;
      if (!abbreviate(t.predicate, prefixes, p, l)) continue;  // RDF/XML needs a QName
      std::string name = p + ":" + l;
      if (t.object.kind == Term::Kind::kIri) {
        out += "    <" + name + " rdf:resource=\"" + xmlEscape(t.object.value) + "\"/>\n";
        continue;
      }
      std::string attrs;
      if (!t.object.lang.empty())
        attrs = " xml:lang=\"" + xmlEscape(t.object.lang) + "\"";
      else if (!t.object.datatype.empty())
        attrs = " rdf:datatype=\"" + xmlEscape(t.object.datatype) + "\"";
      out += "    <" + name + attrs + ">" + xmlEscape(t.object.value) + "</" + name + ">\n";
    }
    out += "  </rdf:Description>\n";
  }
  return out + "</rdf:RDF>\n";
}

std::string toJsonLd(const Graph& g, const Prefixes& prefixes) {
  JsonBuffer buf;
  JsonWriter w(buf);
  auto compact = [&](const std::string& v) {
    std::string p, l;
    return abbreviate(v, prefixes, p, l) ? p + ":" + l : v;
  };
  w.StartObject();
  w.Key("@context");
  w.StartObject();
  for (const auto& [p, ns] : prefixes) {
    w.Key(p.c_str());
    w.String(ns.c_str(), static_cast<rapidjson::SizeType>(ns.size()));
  }
  w.EndObject();
  w.Key("@graph");
  w.StartArray();
  for (const auto& [subject, indexes] : bySubject(g)) {
    w.StartObject();
    w.Key("@id");
    w.String(subject.c_str(), static_cast<rapidjson::SizeType>(subject.size()));
    // Group the subject's values by predicate, in order of first appearance.
    std::vector<std::pair<std::string, std::vector<const Term*>>> props;
    for (size_t i : indexes) {
      const Triple& t = g.triples()[i];
      std::string key = t.predicate == kRdfType ? "@type" : compact(t.predicate);
      auto it = std::find_if(props.begin(), props.end(), [&](const auto& e) { return e.first == key; });
      if (it == props.end()) it = props.insert(props.end(), {key, {}});
      it->second.push_back(&t.object);
    }
    for (const auto& [key, values] : props) {
      w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
      w.StartArray();
      for (const Term* v : values) {
        if (key == "@type") {
          std::string c = compact(v->value);
          w.String(c.c_str(), static_cast<rapidjson::SizeType>(c.size()));
        } else if (v->kind == Term::Kind::kIri) {
          w.StartObject();
          w.Key("@id");
          w.String(v->value.c_str(), static_cast<rapidjson::SizeType>(v->value.size()));
          w.EndObject();
        } else {
          w.StartObject();
          w.Key("@value");
          w.String(v->value.c_str(), static_cast<rapidjson::SizeType>(v->value.size()));
          if (!v->lang.empty()) {
            w.Key("@language");
            w.String(v->lang.c_str(), static_cast<rapidjson::SizeType>(v->lang.size()));
          } else if (!v->datatype.empty()) {
            std::string c = compact(v->datatype);
            w.Key("@type");
            w.String(c.c_str(), static_cast<rapidjson::SizeType>(c.size()));
          }
          w.EndObject();
        }
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace allmende::api::rdf
