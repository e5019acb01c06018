// Renders /api/openapi.json without any third-party code. Builds the DOM with
// createElement and textContent only (the page's CSP requires Trusted Types).

const VERBS = ["get", "post", "put", "patch", "delete"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

function refName(ref) {
  return ref.split("/").pop();
}

function resolve(doc, schema) {
  if (schema && schema.$ref) return doc.components.schemas[refName(schema.$ref)] || {};
  return schema || {};
}

function typeLabel(doc, schema) {
  if (!schema) return "any";
  if (schema.$ref) return refName(schema.$ref);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.oneOf) return schema.oneOf.map((s) => typeLabel(doc, s)).join(" | ");
  const t = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (t === "array") return `array of ${typeLabel(doc, schema.items)}`;
  return t || (schema.allOf ? "object" : "any");
}

function constraints(schema) {
  const out = [];
  const pairs = [["minLength", "min length"], ["maxLength", "max length"], ["minimum", "min"],
    ["maximum", "max"], ["minProperties", "min properties"], ["default", "default"],
    ["format", "format"], ["pattern", "pattern"]];
  for (const [k, label] of pairs) {
    if (k in schema) out.push(`${label} ${typeof schema[k] === "string" ? schema[k] : JSON.stringify(schema[k])}`);
  }
  return out.join(", ");
}

// Flattens allOf and renders an object's properties as a nested list.
function schemaTree(doc, schema, depth, seen) {
  const s = resolve(doc, schema);
  const list = el("ul");
  const props = {};
  let required = [];
  const parts = s.allOf ? s.allOf.map((p) => resolve(doc, p)) : [s];
  for (const p of parts) {
    Object.assign(props, p.properties || {});
    required = required.concat(p.required || []);
  }
  for (const [name, raw] of Object.entries(props)) {
    const p = resolve(doc, raw);
    const li = el("li", {}, el("span", {}, name), required.includes(name) ? el("span", { class: "req" }, "*") : null,
      ": ", el("span", { class: "muted" }, typeLabel(doc, raw)));
    const c = constraints(p);
    if (c) li.append(el("span", { class: "muted" }, ` (${c})`));
    if (p.description) li.append(el("span", { class: "muted" }, ` — ${p.description}`));
    const nested = raw.$ref ? refName(raw.$ref) : null;
    if (depth < 4 && nested && !seen.includes(nested)) {
      li.append(schemaTree(doc, raw, depth + 1, seen.concat(nested)));
    } else if (depth < 4 && p.type === "array" && p.items && p.items.$ref && !seen.includes(refName(p.items.$ref))) {
      li.append(schemaTree(doc, p.items, depth + 1, seen.concat(refName(p.items.$ref))));
    }
    list.append(li);
  }
  return list;
}

function schemaBlock(doc, schema) {
  const s = resolve(doc, schema);
  const box = el("div", { class: "schema" }, el("div", {}, typeLabel(doc, schema)));
  if (s.description) box.append(el("div", { class: "muted" }, s.description));
  const seen = schema && schema.$ref ? [refName(schema.$ref)] : [];
  if (s.type === "array" && s.items) box.append(schemaTree(doc, s.items, 0, seen));
  else if (s.oneOf) {
    for (const alt of s.oneOf) if (alt.$ref) box.append(schemaTree(doc, alt, 0, seen.concat(refName(alt.$ref))));
  } else box.append(schemaTree(doc, schema, 0, seen));
  return box;
}

function securityText(doc, op) {
  const sec = op.security === undefined ? doc.security || [] : op.security;
  if (sec.length === 0) return "none";
  return sec.map((r) => Object.keys(r).join(" + ") || "anonymous").join(" or ");
}

function operation(doc, path, verb, op) {
  const id = `op-${op.operationId || verb + path}`;
  const section = el("section", { class: "op", id },
    el("h3", {}, el("span", { class: `verb ${verb}` }, verb), el("span", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || "")));
  if (op.description) section.append(el("p", {}, op.description));
  section.append(el("p", { class: "muted" }, `Security: ${securityText(doc, op)}`));
  if (op.parameters && op.parameters.length) {
    const rows = op.parameters.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
      el("td", {}, typeLabel(doc, p.schema) + (p.required ? " (required)" : "")),
      el("td", {}, [p.description || p.schema.description || "", constraints(p.schema || {})].filter(Boolean).join(" — "))));
    section.append(el("h4", {}, "Parameters"),
      el("table", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "Notes")), ...rows));
  }
  if (op.requestBody) {
    const types = Object.keys(op.requestBody.content);
    const first = op.requestBody.content[types[0]];
    section.append(el("h4", {}, `Request body${op.requestBody.required ? "" : " (optional)"}: ${types.join(", ")}`),
      schemaBlock(doc, first.schema));
  }
  section.append(el("h4", {}, "Responses"));
  const rows = [];
  for (const [status, r] of Object.entries(op.responses || {})) {
    const cell = el("td", {}, r.description || "");
    const codes = r["x-error-codes"];
    if (codes) cell.append(el("div", { class: "codes" }, ...codes.map((c) => el("code", {}, c))));
    else if (r.content) {
      const [media, body] = Object.entries(r.content)[0];
      cell.append(el("div", { class: "muted" }, media), schemaBlock(doc, body.schema));
    }
    if (r.headers) cell.append(el("div", { class: "muted" }, `Headers: ${Object.keys(r.headers).join(", ")}`));
    rows.push(el("tr", {}, el("td", {}, el("code", {}, status)), cell));
  }
  section.append(el("table", {}, ...rows));
  return section;
}

function render(doc) {
  const main = document.getElementById("doc");
  const toc = document.getElementById("toc");
  main.replaceChildren(el("p", { class: "intro" }, doc.info.description || ""));
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const verb of VERBS) {
      if (!item[verb]) continue;
      const tag = (item[verb].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([path, verb, item[verb]]);
    }
  }
  for (const [tag, ops] of byTag) {
    const meta = (doc.tags || []).find((t) => t.name === tag);
    main.append(el("h2", { id: `tag-${tag}` }, tag));
    if (meta && meta.description) main.append(el("p", { class: "muted" }, meta.description));
    toc.append(el("h2", {}, tag));
    for (const [path, verb, op] of ops) {
      const section = operation(doc, path, verb, op);
      main.append(section);
      toc.append(el("a", { href: `#${section.id}` }, `${verb.toUpperCase()} ${path}`));
    }
  }
}

fetch("/api/openapi.json", { headers: { accept: "application/json" } })
  .then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  })
  .then(render)
  .catch((e) => {
    document.getElementById("doc").replaceChildren(el("p", {}, `Could not load the document: ${e.message}`));
  });
