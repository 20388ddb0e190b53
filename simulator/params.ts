// Moodle's request parameters: PHP bracket notation (courseids[0]=5,
// courses[0][id]=5) decoded into nested values, then validated the way
// external_api::validate_parameters does, with the same error texts.

export type ParamType = 'int' | 'bool' | 'text' | 'alpha' | 'alphanum' | 'raw';

export type ParamDesc =
  | { kind: 'value'; type: ParamType; required?: boolean; default?: unknown }
  | { kind: 'single'; keys: Record<string, ParamDesc>; required?: boolean; default?: unknown }
  | { kind: 'multiple'; item: ParamDesc; required?: boolean; default?: unknown };

export const value = (type: ParamType, opts: { required?: boolean; default?: unknown } = { required: true }): ParamDesc => ({
  kind: 'value',
  type,
  ...opts,
});
export const optional = (type: ParamType): ParamDesc => ({ kind: 'value', type, required: false });
export const withDefault = (type: ParamType, d: unknown): ParamDesc => ({ kind: 'value', type, required: false, default: d });
export const single = (
  keys: Record<string, ParamDesc>,
  opts: { required?: boolean; default?: unknown } = { required: true },
): ParamDesc => ({ kind: 'single', keys, ...opts });
export const multiple = (item: ParamDesc, opts: { required?: boolean; default?: unknown } = { required: true }): ParamDesc => ({
  kind: 'multiple',
  item,
  ...opts,
});

type Nested = string | { [k: string]: Nested };

/** Decodes `a[0][b]=x` pairs into nested objects, as PHP fills $_POST. */
export function decodePhpForm(pairs: Iterable<[string, string]>): Record<string, Nested> {
  const root: Record<string, Nested> = {};
  for (const [rawKey, val] of pairs) {
    const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    if (!m) continue;
    const path = [m[1], ...[...m[2].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1])];
    let node: Record<string, Nested> = root;
    for (let i = 0; i < path.length - 1; i++) {
      let key = path[i];
      if (key === '') key = String(Object.keys(node).length);
      const next = node[key];
      if (typeof next !== 'object') node[key] = {};
      node = node[key] as Record<string, Nested>;
    }
    let last = path[path.length - 1];
    if (last === '') last = String(Object.keys(node).length);
    node[last] = val;
  }
  return root;
}

export class InvalidParameter extends Error {
  constructor(readonly debuginfo: string) {
    super('Invalid parameter value detected');
  }
}

function cleanScalar(type: ParamType, raw: string): unknown {
  switch (type) {
    case 'int':
      return /^-?\d+$/.test(raw) && String(parseInt(raw, 10)) === raw ? parseInt(raw, 10) : undefined;
    case 'bool':
      return raw === '0' || raw === '1' ? raw === '1' : undefined;
    case 'alpha':
      return /^[A-Za-z]*$/.test(raw) ? raw : undefined;
    case 'alphanum':
      return /^[A-Za-z0-9]*$/.test(raw) ? raw : undefined;
    default:
      return raw;
  }
}

function validate(desc: ParamDesc, input: Nested | undefined, path: string): unknown {
  if (desc.kind === 'value') {
    if (typeof input !== 'string') {
      throw new InvalidParameter(
        `${path} => Invalid parameter value detected: Invalid external api parameter: the value is "${JSON.stringify(input)}", the server was expecting "${desc.type}" type`,
      );
    }
    const cleaned = cleanScalar(desc.type, input);
    if (cleaned === undefined) {
      throw new InvalidParameter(
        `${path} => Invalid parameter value detected: Invalid external api parameter: the value is "${input}", the server was expecting "${desc.type === 'int' ? 'int' : desc.type === 'bool' ? 'bool' : 'raw'}" type`,
      );
    }
    return cleaned;
  }
  if (desc.kind === 'multiple') {
    if (input === undefined) return [];
    if (typeof input !== 'object') {
      throw new InvalidParameter(`${path} => Invalid parameter value detected: Only arrays accepted. The bad value is: '${input}'`);
    }
    return Object.values(input).map((v) => validate(desc.item, v, path));
  }
  if (typeof input !== 'object' || input === null) {
    throw new InvalidParameter(`${path} => Invalid parameter value detected: Only arrays accepted. The bad value is: '${String(input)}'`);
  }
  return validateSingle(desc.keys, input, path);
}

function validateSingle(keys: Record<string, ParamDesc>, input: Record<string, Nested>, path: string): Record<string, unknown> {
  const unexpected = Object.keys(input).filter((k) => !(k in keys));
  if (unexpected.length) {
    throw new InvalidParameter(`${path ? `${path} => ` : ''}Unexpected keys (${unexpected.join(', ')}) detected in parameter array.`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, desc] of Object.entries(keys)) {
    if (!(key in input)) {
      if (desc.required) throw new InvalidParameter(`${path ? `${path} => ` : ''}Missing required key in single structure: ${key}`);
      if (desc.default !== undefined) out[key] = desc.default;
      continue;
    }
    out[key] = validate(desc, input[key], key);
  }
  return out;
}

/** Validates a function's parameters; unknown keys and missing required keys are errors, as in Moodle. */
export function validateParameters(keys: Record<string, ParamDesc>, input: Record<string, Nested>): Record<string, unknown> {
  return validateSingle(keys, input, '');
}
