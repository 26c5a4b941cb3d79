/**
 * The API reference page (/docs): renders /v1/openapi.json in the browser with
 * no network beyond this worker (no CDN, no fonts): every route with its
 * parameters, body and answers, a "try it" form per route, and the schemas.
 */

type Json = { [key: string]: unknown };
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Json;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
}
interface Document {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation | Parameter[]>>;
  components: { schemas: Record<string, Json> };
}

const METHODS = ["get", "post", "put", "delete"];

/** A tiny element builder: tag, attributes, children. */
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The document's descriptions are CommonMark; its `code` spans are all this page renders. */
function rich(text = ""): (Node | string)[] {
  return text.split("`").map((part, i) => (i % 2 === 1 ? el("code", {}, part) : part));
}

/** One line for a parameter's schema: `integer 0–200, default 25`. */
function brief(schema: Json = {}): string {
  const parts = [String(schema.type ?? "any")];
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    parts.push(`${schema.minimum ?? "…"}–${schema.maximum ?? "…"}`);
  }
  if (schema.pattern) parts.push(`pattern ${schema.pattern}`);
  if (schema.default !== undefined) parts.push(`default ${pretty(schema.default)}`);
  return parts.join(", ");
}

/** A schema, with `$ref`s as links to the schemas section. */
function schemaView(schema: Json): HTMLElement {
  const ref = typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
  return ref
    ? el("a", { href: `#schema-${ref}`, class: "ref" }, ref)
    : el("details", {}, el("summary", {}, "schema"), el("pre", {}, pretty(schema)));
}

/** A small valid body for the try-it form, from the schema's required fields. */
function example(schema: Json, doc: Document): unknown {
  const ref = typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
  if (ref) return example(doc.components.schemas[ref] ?? {}, doc);
  if (schema.default !== undefined) return schema.default;
  switch (schema.type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((name) => [name, example(props[name] ?? {}, doc)]));
    }
    case "array":
      return [example((schema.items ?? {}) as Json, doc)];
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "string":
      return "hello";
    default:
      return null;
  }
}

function tryIt(method: string, path: string, op: Operation, params: Parameter[], doc: Document) {
  const form = el("form", { class: "try" });
  const inputs = params.map((p) => {
    const value = p.name === "ch" ? "demo" : p.schema?.default;
    const input = el("input", {
      name: p.name,
      placeholder: p.required ? "required" : "optional",
      ...(value === undefined ? {} : { value: String(value) }),
    }) as HTMLInputElement;
    form.append(el("label", {}, `${p.name} `, input));
    return { param: p, input };
  });
  const schema = op.requestBody?.content["application/json"]?.schema;
  const body = schema
    ? (el(
        "textarea",
        { rows: "6", name: "body" },
        pretty(example(schema, doc)),
      ) as HTMLTextAreaElement)
    : undefined;
  if (body) form.append(body);
  const output = el("pre", { class: "answer" });
  form.append(el("button", { type: "submit" }, `Send ${method.toUpperCase()}`), output);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const { param, input } of inputs) {
      if (param.in === "path")
        url = url.replace(`{${param.name}}`, encodeURIComponent(input.value));
      else if (input.value !== "") query.set(param.name, input.value);
    }
    const token = (document.getElementById("token") as HTMLInputElement).value.trim();
    const headers: Record<string, string> = body ? { "Content-Type": "application/json" } : {};
    if (token) headers.Authorization = `Bearer ${token}`;
    output.textContent = "…";
    try {
      const search = query.size > 0 ? `?${query}` : "";
      const res = await fetch(`${url}${search}`, {
        method: method.toUpperCase(),
        headers,
        ...(body ? { body: body.value } : {}),
      });
      const text = await res.text();
      let shown = text;
      try {
        shown = pretty(JSON.parse(text));
      } catch {
        // Not JSON: show it as it came.
      }
      output.textContent = `${res.status} ${res.statusText}\n${shown}`;
    } catch (err) {
      output.textContent = String(err);
    }
  });
  return form;
}

function operationView(
  method: string,
  path: string,
  op: Operation,
  shared: Parameter[],
  doc: Document,
) {
  const params = [...shared, ...(op.parameters ?? [])];
  const section = el(
    "section",
    { class: "op", id: op.operationId, "data-method": method.toUpperCase(), "data-path": path },
    el(
      "h2",
      {},
      el("span", { class: `method ${method}` }, method.toUpperCase()),
      " ",
      el("code", {}, path),
    ),
    el("p", {}, ...rich(op.summary)),
    el("p", { class: "muted" }, ...rich(op.description)),
  );
  if (params.length > 0) {
    const rows = params.map((p) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", {}, p.name)),
        el("td", {}, p.in),
        el("td", {}, p.required ? "required" : ""),
        el("td", {}, brief(p.schema)),
        el("td", {}, p.description ?? ""),
      ),
    );
    section.append(el("h3", {}, "Parameters"), el("table", {}, ...rows));
  }
  const bodySchema = op.requestBody?.content["application/json"]?.schema;
  if (bodySchema) section.append(el("h3", {}, "Body"), schemaView(bodySchema));
  const answers = Object.entries(op.responses).map(([status, r]) => {
    const schema = r.content?.["application/json"]?.schema;
    return el(
      "li",
      {},
      el("b", {}, status),
      " ",
      ...rich(r.description),
      " ",
      ...(schema ? [schemaView(schema)] : []),
    );
  });
  section.append(el("h3", {}, "Answers"), el("ul", {}, ...answers));
  // A WebSocket upgrade cannot be tried with fetch.
  if (!("101" in op.responses))
    section.append(el("h3", {}, "Try it"), tryIt(method, path, op, params, doc));
  return section;
}

async function main(): Promise<void> {
  const root = document.getElementById("reference") as HTMLElement;
  const doc = (await (await fetch("/v1/openapi.json")).json()) as Document;
  document.title = `${doc.info.title} API reference`;
  root.append(
    el("h1", {}, `${doc.info.title} API `, el("small", {}, `version ${doc.info.version}`)),
    el("p", {}, ...rich(doc.info.description)),
  );
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = (item.parameters ?? []) as Parameter[];
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (op) root.append(operationView(method, path, op, shared, doc));
    }
  }
  root.append(el("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    root.append(
      el(
        "section",
        { id: `schema-${name}`, class: "schema" },
        el("h3", {}, name),
        el("pre", {}, pretty(schema)),
      ),
    );
  }
}

main().catch((err) => {
  document.body.append(el("p", { class: "error" }, `Could not load /v1/openapi.json: ${err}`));
});
