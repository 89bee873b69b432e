// Schema defaults applied the way the API server does: a missing property with a `default` gets a
// copy of it, then defaulting continues inside it. Compiled once per schema into a plain walker
// (TypeBox's generic Value.Default was the compiler's largest cost at 20,000 routes).

type Defaulter = (value: any) => any;

const cache = new WeakMap<object, Defaulter>();

export function compileDefaulter(schema: any): Defaulter {
  const hit = cache.get(schema);
  if (hit) return hit;
  let fn: Defaulter = identity;
  if (schema && typeof schema === 'object') {
    if (schema.type === 'object' && schema.properties) {
      const props = Object.keys(schema.properties).map((key) => {
        const child = schema.properties[key];
        return { key, def: child.default, inner: compileDefaulter(child) };
      });
      fn = (value) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
        for (const p of props) {
          let v = value[p.key];
          if (v === undefined && p.def !== undefined) v = structuredCloneJson(p.def);
          if (v !== undefined) value[p.key] = p.inner(v);
        }
        return value;
      };
    } else if (schema.type === 'array' && schema.items) {
      const inner = compileDefaulter(schema.items);
      if (inner !== identity) fn = (value) => (Array.isArray(value) ? value.map(inner) : value);
    }
    // Leaves with nothing below them stay the identity: no walk at all.
    if (fn !== identity && !hasDefaultsBelow(schema)) fn = identity;
  }
  cache.set(schema, fn);
  return fn;
}

function identity(v: any) {
  return v;
}

function structuredCloneJson(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? JSON.parse(JSON.stringify(v)) : v;
}

function hasDefaultsBelow(schema: any): boolean {
  if (!schema || typeof schema !== 'object') return false;
  if (schema.properties) {
    for (const k of Object.keys(schema.properties)) {
      const c = schema.properties[k];
      if (c.default !== undefined || hasDefaultsBelow(c)) return true;
    }
  }
  if (schema.items) return hasDefaultsBelow(schema.items);
  return false;
}
