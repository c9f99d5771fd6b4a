#!/usr/bin/env node
// Reference answers from jsonld.js (the JSON-LD 1.1 reference processor) for Allmende's ld/
// differential test. Usage: node jsonld_reference.js cases.json core-context.jsonld
//
// cases.json: {"coreUrl": "...", "documents": {url: document}, "cases": [
//   {"name": "...", "context": <@context value>, "terms": [...], "iris": [...]}]}
// The context of a case is processed as [context..., coreUrl] (NGSI-LD: core context last).
// Prints [{"name", "expanded": {term: iri|null}, "compacted": {iri: compacted}}] or
// {"name", "error": message}. No network: the document loader serves only local documents.
'use strict';
const fs = require('fs');
const jsonld = require('jsonld');
const {compactIri} = require('jsonld/lib/compact.js');
const {expandIri} = require('jsonld/lib/context.js');

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const core = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const documents = Object.assign({}, input.documents || {});
  documents[input.coreUrl] = core;
  const documentLoader = async (url) => {
    if (!(url in documents)) throw new Error('no local document for ' + url);
    return {contextUrl: null, documentUrl: url, document: documents[url]};
  };
  const options = {documentLoader};
  const out = [];
  for (const c of input.cases) {
    const ctx = (Array.isArray(c.context) ? c.context : [c.context]).concat([input.coreUrl]);
    try {
      const initial = await jsonld.processContext(null, null, options);
      const active = await jsonld.processContext(initial, ctx, options);
      const expanded = {};
      for (const term of c.terms) {
        let iri = null;
        try {
          const doc = await jsonld.expand({'@context': ctx, [term]: 'x'}, options);
          const keys = doc.length ? Object.keys(doc[0]) : [];
          // A lone keyword member ("id": "x") leaves no node behind: ask the IRI expansion.
          iri = keys.length ? keys[0] : expandIri(active, term, {vocab: true}, options);
        } catch (e) {
          // Values of some containers (@language, @index) cannot be "x": ask the IRI expansion.
          iri = expandIri(active, term, {vocab: true}, options);
        }
        expanded[term] = iri;
      }
      const compacted = {};
      for (const iri of c.iris) {
        compacted[iri] = compactIri({activeCtx: active, iri, relativeTo: {vocab: true}});
      }
      out.push({name: c.name, expanded, compacted});
    } catch (e) {
      out.push({name: c.name, error: String(e && e.message || e)});
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
