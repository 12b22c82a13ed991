/**
 * A small YAML emitter for the manifests this service hands out (pull Secrets, admission configuration): maps,
 * sequences, strings, numbers, booleans and null, 2-space indent, no line folding. No YAML library: it runs in the
 * Lambdas that answer them. A string that YAML 1.1 (go-yaml, kubectl) or 1.2 would read as something else (`"n"`,
 * `"on"`, `"012"`, `"true"`, `"1:20"`) is double-quoted, as kubectl quotes it; other plain strings stay verbatim.
 */

/** Go's `encoding/json` escapes these (HTML-safe output); kubectl's JSON and YAML quoting do too. */
export const goEscape = (json: string): string => json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

// What a YAML 1.1 or 1.2 reader resolves a plain scalar to when it is not a string.
const NON_STRING = [
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:~|null|Null|NULL)$/,
  /^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)$/,
  /^[-+]?(?:[0-9][0-9_]*(?::[0-5]?[0-9])*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?[0-9]+[eE][-+]?[0-9]+$/,
  /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/,
  /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::\d{2})?))?)?$/,
];
// Plain scalars may not start with an indicator, hold `: ` or ` #`, end in `:` or whitespace, or hold a control character.
const NOT_PLAIN = /^$|^[-?:,[\]{}#&*!|>'"%@`\s]|: |\s#|:$|\s$|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const needsQuotes = (value: string) => NOT_PLAIN.test(value) || NON_STRING.some((re) => re.test(value));

const scalar = (value: unknown): string => {
  if (value === null) return 'null';
  if (typeof value === 'string') return needsQuotes(value) ? goEscape(JSON.stringify(value)) : value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`YAML here holds maps, sequences, strings, finite numbers, booleans and null, not ${typeof value}`);
};

type Options = { sortKeys: boolean };
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The lines of `value` under `key` (or of a sequence item), at `indent`. */
const entry = (head: string, value: unknown, indent: string, opts: Options): string[] => {
  if (Array.isArray(value)) return value.length ? [`${head}`, ...sequence(value, indent, opts)] : [`${head} []`];
  if (isMap(value)) return Object.keys(value).length ? [`${head}`, ...mapping(value, `${indent}  `, opts)] : [`${head} {}`];
  return [`${head} ${scalar(value)}`];
};

const mapping = (map: Record<string, unknown>, indent: string, opts: Options): string[] => {
  const keys = Object.keys(map).filter((k) => map[k] !== undefined);
  return (opts.sortKeys ? keys.sort() : keys).flatMap((key) => entry(`${indent}${scalar(key)}:`, map[key], indent, opts));
};

// Sequences sit at their key's indent (as kubectl prints them); a map item starts on its `- ` line.
const sequence = (items: readonly unknown[], indent: string, opts: Options): string[] =>
  items.flatMap((item) => {
    if (isMap(item) && Object.keys(item).length) {
      const [first = '', ...rest] = mapping(item, `${indent}  `, opts);
      return [`${indent}- ${first.slice(indent.length + 2)}`, ...rest];
    }
    if (Array.isArray(item)) throw new TypeError('nested sequences are not emitted');
    return [`${indent}- ${isMap(item) ? '{}' : scalar(item)}`];
  });

/** YAML of a map; keys sorted as `kubectl -o yaml` prints them, or in their own order. */
export const toYaml = (map: object, opts: Options = { sortKeys: true }): string => `${mapping(map as Record<string, unknown>, '', opts).join('\n')}\n`;
