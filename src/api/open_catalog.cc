// DCAT-AP.de 2.0 (dcat-ap.de): mandatory are, for dcat:Catalog dct:title, dct:description,
// dct:publisher, dcat:dataset; for dcat:Dataset dct:title, dct:description (and, for GovData,
// dcatde:contributorID, dct:publisher); for dcat:Distribution dcat:accessURL and dct:license.
// The recommended ones we can fill (contact point, keywords, themes, spatial coverage by the
// municipality key, update frequency, format, media type, download URL) are written too.
#include "api/open_catalog.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace allmende::api {

namespace {

constexpr const char* kDcat = "http://www.w3.org/ns/dcat#";
constexpr const char* kDct = "http://purl.org/dc/terms/";
constexpr const char* kFoaf = "http://xmlns.com/foaf/0.1/";
constexpr const char* kVcard = "http://www.w3.org/2006/vcard/ns#";
constexpr const char* kDcatde = "http://dcat-ap.de/def/dcatde/";
constexpr const char* kXsd = "http://www.w3.org/2001/XMLSchema#";
constexpr const char* kFileType = "http://publications.europa.eu/resource/authority/file-type/";
constexpr const char* kLanguage = "http://publications.europa.eu/resource/authority/language/";
// dcatde:politicalGeocodingURI for a municipality (Gemeindeschlüssel).
constexpr const char* kMunicipalityKey = "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/";
constexpr const char* kGeocodingLevel = "http://dcat-ap.de/def/politicalGeocoding/Level/municipality";
// dcatde:contributorID: the platform publishes for the municipalities (a "Datenbereitsteller" id).
constexpr const char* kContributor = "http://dcat-ap.de/def/contributors/allmende";

std::string p(const char* ns, const char* local) { return std::string(ns) + local; }

rdf::Term dateTime(Micros t) { return rdf::typed(formatDateTime(t), p(kXsd, "dateTime")); }

std::string displayName(const store::TenantRecord& t) { return t.displayName.empty() ? t.name : t.displayName; }

void addTexts(rdf::Graph& g, const std::string& s, const std::string& pred,
              const std::map<std::string, std::string>& texts) {
  for (const auto& [lang, text] : texts) g.add(s, pred, rdf::literal(text, lang));
}

// The tenant as a foaf:Agent (publisher).
std::string addPublisher(rdf::Graph& g, const std::string& base, const store::TenantRecord& t) {
  std::string agent = tenantCatalogIri(base, t.name) + "#publisher";
  g.add(agent, rdf::kRdfType, rdf::iri(p(kFoaf, "Agent")));
  g.add(agent, p(kFoaf, "name"), rdf::literal(displayName(t)));
  return agent;
}

void addDistributions(rdf::Graph& g, const std::string& dataset, const Dataset& d, Micros modified) {
  const char* license = licenseIri(d.license);
  for (const auto& k : kDistributions) {
    std::string dist = dataset + "/" + k.file;
    g.add(dataset, p(kDcat, "distribution"), rdf::iri(dist));
    g.add(dist, rdf::kRdfType, rdf::iri(p(kDcat, "Distribution")));
    g.add(dist, p(kDct, "title"), rdf::literal(k.title, "de"));
    g.add(dist, p(kDcat, "accessURL"), rdf::iri(dist));
    g.add(dist, p(kDcat, "downloadURL"), rdf::iri(dist));
    g.add(dist, p(kDcat, "mediaType"),
          rdf::iri(std::string("https://www.iana.org/assignments/media-types/") + k.mediaType));
    g.add(dist, p(kDct, "format"), rdf::iri(std::string(kFileType) + k.formatCode));
    if (license) g.add(dist, p(kDct, "license"), rdf::iri(license));
    g.add(dist, p(kDct, "modified"), dateTime(modified));
  }
}

// The attribute history of one month as CSV (api/open_data.cc openHistory).
void addHistoryDistribution(rdf::Graph& g, const std::string& dataset, const Dataset& d, const std::string& month) {
  const char* license = licenseIri(d.license);
  std::string dist = dataset + "/history/" + month + ".csv";
  g.add(dataset, p(kDcat, "distribution"), rdf::iri(dist));
  g.add(dist, rdf::kRdfType, rdf::iri(p(kDcat, "Distribution")));
  g.add(dist, p(kDct, "title"), rdf::literal("Verlauf " + month + " (CSV)", "de"));
  g.add(dist, p(kDct, "title"), rdf::literal("History " + month + " (CSV)", "en"));
  g.add(dist, p(kDct, "description"),
        rdf::literal("Alle Werte der veröffentlichten Attribute, die im Monat " + month +
                         " (UTC) erfasst wurden: entityId, type, attribute, observedAt, recordedAt, value. "
                         "Einzelne Tage: " +
                         dataset + "/history/JJJJ-MM-TT.csv",
                     "de"));
  g.add(dist, p(kDct, "description"),
        rdf::literal("Every value of the published attributes recorded in " + month +
                         " (UTC): entityId, type, attribute, observedAt, recordedAt, value. Single days: " + dataset +
                         "/history/YYYY-MM-DD.csv",
                     "en"));
  g.add(dist, p(kDcat, "accessURL"), rdf::iri(dist));
  g.add(dist, p(kDcat, "downloadURL"), rdf::iri(dist));
  g.add(dist, p(kDcat, "mediaType"), rdf::iri("https://www.iana.org/assignments/media-types/text/csv"));
  g.add(dist, p(kDct, "format"), rdf::iri(std::string(kFileType) + "CSV"));
  if (license) g.add(dist, p(kDct, "license"), rdf::iri(license));
}

void addDataset(rdf::Graph& g, const std::string& base, const store::TenantRecord& t, const PublishedDataset& pd,
                const std::string& publisher, Micros now) {
  const Dataset& d = pd.dataset;
  std::string s = datasetIri(base, t.name, d.id);
  g.add(s, rdf::kRdfType, rdf::iri(p(kDcat, "Dataset")));
  addTexts(g, s, p(kDct, "title"), d.title);
  addTexts(g, s, p(kDct, "description"), d.description);
  g.add(s, p(kDct, "identifier"), rdf::literal(s));
  std::string pub = publisher;
  if (!d.publisherName.empty() || !d.publisherUrl.empty()) {
    pub = s + "#publisher";
    g.add(pub, rdf::kRdfType, rdf::iri(p(kFoaf, "Agent")));
    g.add(pub, p(kFoaf, "name"), rdf::literal(d.publisherName.empty() ? displayName(t) : d.publisherName));
    if (!d.publisherUrl.empty()) g.add(pub, p(kFoaf, "homepage"), rdf::iri(d.publisherUrl));
  }
  g.add(s, p(kDct, "publisher"), rdf::iri(pub));
  g.add(s, p(kDcatde, "contributorID"), rdf::iri(kContributor));
  std::string email =
      d.contactEmail.empty() ? (t.contact.find('@') != std::string::npos ? t.contact : "") : d.contactEmail;
  if (!email.empty() || !d.contactName.empty()) {
    std::string contact = s + "#contact";
    g.add(s, p(kDcat, "contactPoint"), rdf::iri(contact));
    g.add(contact, rdf::kRdfType, rdf::iri(p(kVcard, "Organization")));
    g.add(contact, p(kVcard, "fn"), rdf::literal(d.contactName.empty() ? displayName(t) : d.contactName));
    if (!email.empty()) g.add(contact, p(kVcard, "hasEmail"), rdf::iri("mailto:" + email));
  }
  for (const auto& k : d.keywords) g.add(s, p(kDcat, "keyword"), rdf::literal(k, "de"));
  for (const auto& th : d.themes) g.add(s, p(kDcat, "theme"), rdf::iri(std::string(kThemeBase) + th));
  if (!t.ags.empty()) {
    g.add(s, p(kDcatde, "politicalGeocodingURI"), rdf::iri(std::string(kMunicipalityKey) + t.ags));
    g.add(s, p(kDcatde, "politicalGeocodingLevelURI"), rdf::iri(kGeocodingLevel));
    g.add(s, p(kDct, "spatial"), rdf::iri(std::string(kMunicipalityKey) + t.ags));
  }
  g.add(s, p(kDct, "accrualPeriodicity"), rdf::iri(std::string(kFrequencyBase) + d.frequency));
  g.add(s, p(kDct, "issued"), dateTime(pd.created));
  g.add(s, p(kDct, "modified"), dateTime(pd.modified));
  addDistributions(g, s, d, pd.modified);
  for (const auto& month : historyMonths(t.created, now)) addHistoryDistribution(g, s, d, month);
}

}  // namespace

std::vector<std::string> historyMonths(Micros registered, Micros now) {
  auto yearMonth = [](Micros t) {
    std::time_t secs = static_cast<std::time_t>(t / 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
  };
  std::vector<std::string> out;
  const int last = yearMonth(now), first = std::max(yearMonth(registered), last - kHistoryMonthsListed + 1);
  for (int m = last; m >= first; --m) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d", m / 12, m % 12 + 1);
    out.push_back(buf);
  }
  return out;
}

std::string tenantCatalogIri(const std::string& base, const std::string& tenant) {
  return base + "/open/v1/" + tenant + "/catalog";
}
std::string platformCatalogIri(const std::string& base) { return base + "/open/v1/catalog"; }
std::string datasetIri(const std::string& base, const std::string& tenant, const std::string& id) {
  return base + "/open/v1/" + tenant + "/datasets/" + id;
}

const rdf::Prefixes& catalogPrefixes() {
  static const rdf::Prefixes kPrefixes = {{"dcat", kDcat},
                                          {"dct", kDct},
                                          {"foaf", kFoaf},
                                          {"vcard", kVcard},
                                          {"dcatde", kDcatde},
                                          {"xsd", kXsd},
                                          {"rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}};
  return kPrefixes;
}

rdf::Graph buildCatalog(const std::string& base, const std::vector<TenantCatalog>& tenants, bool platform, Micros now) {
  rdf::Graph g;
  std::string cat = platform ? platformCatalogIri(base) : tenantCatalogIri(base, tenants.at(0).tenant.name);
  g.add(cat, rdf::kRdfType, rdf::iri(p(kDcat, "Catalog")));
  Micros modified = 0;
  for (const auto& t : tenants) {
    for (const auto& d : t.datasets) modified = std::max(modified, d.modified);
  }
  if (platform) {
    g.add(cat, p(kDct, "title"), rdf::literal("Offene Daten der Kommunen (Allmende)", "de"));
    g.add(cat, p(kDct, "title"), rdf::literal("Open data of the municipalities (Allmende)", "en"));
    g.add(cat, p(kDct, "description"), rdf::literal("Offene Daten aller Kommunen dieser Plattform", "de"));
    g.add(cat, p(kDct, "description"), rdf::literal("Open data of every municipality on this platform", "en"));
    std::string agent = cat + "#publisher";
    g.add(cat, p(kDct, "publisher"), rdf::iri(agent));
    g.add(agent, rdf::kRdfType, rdf::iri(p(kFoaf, "Agent")));
    g.add(agent, p(kFoaf, "name"), rdf::literal("Allmende"));
  } else {
    const auto& t = tenants.at(0).tenant;
    g.add(cat, p(kDct, "title"), rdf::literal("Offene Daten: " + displayName(t), "de"));
    g.add(cat, p(kDct, "title"), rdf::literal("Open data: " + displayName(t), "en"));
    g.add(cat, p(kDct, "description"), rdf::literal("Offene Daten von " + displayName(t), "de"));
    g.add(cat, p(kDct, "description"), rdf::literal("Open data of " + displayName(t), "en"));
    g.add(cat, p(kDct, "publisher"), rdf::iri(tenantCatalogIri(base, t.name) + "#publisher"));
  }
  g.add(cat, p(kDct, "language"), rdf::iri(std::string(kLanguage) + "DEU"));
  g.add(cat, p(kFoaf, "homepage"), rdf::iri(cat));
  if (modified) g.add(cat, p(kDct, "modified"), dateTime(modified));
  for (const auto& t : tenants) {
    for (const auto& d : t.datasets)
      g.add(cat, p(kDcat, "dataset"), rdf::iri(datasetIri(base, t.tenant.name, d.dataset.id)));
  }
  for (const auto& t : tenants) {
    if (t.datasets.empty() && platform) continue;
    std::string publisher = addPublisher(g, base, t.tenant);
    for (const auto& d : t.datasets) addDataset(g, base, t.tenant, d, publisher, now);
  }
  return g;
}

}  // namespace allmende::api
