// The NGSI-LD core @context (ETSI GS CIM 009 v1.8, Annex B), built into the binary.
#pragma once

#include <memory>
#include <string_view>

namespace allmende::ld {

class Context;

// The URL under which the v1.8 core context is published.
inline constexpr std::string_view kCoreContextUrl =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
// The core context's default vocabulary (@vocab).
inline constexpr std::string_view kDefaultVocab = "https://uri.etsi.org/ngsi-ld/default-context/";

// The document text {"@context": {...}} of ngsi-ld-core-context-v1.8.jsonld.
std::string_view coreContextText();

// True for the URL of any published version of the core context (unversioned, v1.3 ... v1.9,
// http or https). Such URLs are never fetched: NGSI-LD 4.5 makes the core context implicit, and
// its terms are always applied (last) from the built-in copy.
bool isCoreContextUrl(std::string_view url);

// The processed core context alone (process-wide singleton, built on first use; thread-safe).
std::shared_ptr<const Context> coreContext();

}  // namespace allmende::ld
