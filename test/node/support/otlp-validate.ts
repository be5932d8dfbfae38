/**
 * Validates an OTLP/HTTP JSON trace payload against the official protocol definitions
 * (test/fixtures/otlp, opentelemetry-proto v1.11), loaded with protobufjs. The walk is strict:
 * every key must be a field of its message (lowerCamelCase JSON name), every value the JSON
 * mapping of its proto type — 64-bit integers as decimal strings or integers, enums as integers
 * (OTLP requires it), `traceId`/`spanId`/`parentSpanId` as hex (OTLP's exception to base64),
 * other bytes as base64, at most one member of a oneof. The converted message must then pass
 * protobufjs' own `verify` and survive a binary encode/decode round trip.
 */
import path from 'node:path';
import protobuf from 'protobufjs';

const PROTO_DIR = path.resolve(import.meta.dirname, '../../fixtures/otlp');
const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

let root: protobuf.Root | undefined;
function load(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  r.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  r.resolveAll();
  return (root = r);
}

/** Fields whose bytes OTLP encodes as hex in JSON, and their length in bytes (0 = may be empty). */
const HEX_IDS: Record<string, { bytes: number; mayBeEmpty: boolean }> = {
  traceId: { bytes: 16, mayBeEmpty: false },
  spanId: { bytes: 8, mayBeEmpty: false },
  parentSpanId: { bytes: 8, mayBeEmpty: true },
};

/** protobufjs' Long (the `long` package) as far as this module uses it. */
const LONG = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown };

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** Problems found, as `path: message` strings; empty when the payload is valid. */
export function validateOtlpTraces(payload: unknown): string[] {
  const errors: string[] = [];
  const type = load().lookupType(REQUEST);
  const converted = walk(type, payload, '$', errors);
  if (errors.length > 0) return errors;
  const why = type.verify(converted as Record<string, unknown>);
  if (why) return [`protobufjs verify: ${why}`];
  const message = type.fromObject(converted as Record<string, unknown>);
  const decoded = type.decode(type.encode(message).finish());
  const spans = countSpans(type.toObject(decoded, { longs: String }) as Record<string, unknown>);
  if (spans !== countSpans(payload as Record<string, unknown>))
    return ['binary round trip lost spans'];
  return [];
}

function countSpans(req: Record<string, unknown>): number {
  let n = 0;
  for (const rs of (req.resourceSpans as Array<Record<string, unknown>>) ?? [])
    for (const ss of (rs.scopeSpans as Array<Record<string, unknown>>) ?? [])
      n += ((ss.spans as unknown[]) ?? []).length;
  return n;
}

/** Checks `value` against `type` and returns it converted for protobufjs (bytes → Uint8Array). */
function walk(type: protobuf.Type, value: unknown, at: string, errors: string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${at}: expected an object for ${type.name}`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const oneofs = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? Object.values(type.fields).find((f) => f.name === key);
    if (!field) {
      errors.push(`${at}.${key}: not a field of ${type.fullName.slice(1)}`);
      continue;
    }
    if (field.partOf) {
      const taken = oneofs.get(field.partOf.name);
      if (taken) errors.push(`${at}: oneof ${field.partOf.name} has both ${taken} and ${key}`);
      oneofs.set(field.partOf.name, key);
    }
    const where = `${at}.${key}`;
    if (field.repeated) {
      if (!Array.isArray(v)) {
        errors.push(`${where}: expected an array`);
        continue;
      }
      out[key] = v.map((item, i) => scalarOrMessage(field, key, item, `${where}[${i}]`, errors));
    } else {
      out[key] = scalarOrMessage(field, key, v, where, errors);
    }
  }
  return out;
}

function scalarOrMessage(
  field: protobuf.Field,
  key: string,
  v: unknown,
  at: string,
  errors: string[],
): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return walk(resolved, v, at, errors);
  if (resolved instanceof protobuf.Enum) {
    if (typeof v !== 'number' || !Number.isInteger(v))
      errors.push(`${at}: enum ${resolved.name} must be an integer, got ${JSON.stringify(v)}`);
    else if (!Object.values(resolved.values).includes(v))
      errors.push(`${at}: ${v} is not a value of ${resolved.name}`);
    return v;
  }
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') errors.push(`${at}: expected a string`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') errors.push(`${at}: expected a boolean`);
      return v;
    case 'double':
    case 'float':
      if (typeof v !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(String(v)))
        errors.push(`${at}: expected a number`);
      return v;
    case 'bytes': {
      const id = HEX_IDS[key];
      if (id) {
        if (
          typeof v !== 'string' ||
          (v === '' ? !id.mayBeEmpty : !new RegExp(`^[0-9a-fA-F]{${id.bytes * 2}}$`).test(v))
        ) {
          errors.push(`${at}: expected ${id.bytes} bytes as hex, got ${JSON.stringify(v)}`);
          return new Uint8Array();
        }
        if (/^0+$/.test(v)) errors.push(`${at}: an all-zero id is invalid`);
        return Uint8Array.from(v.match(/../g) ?? [], (h) => parseInt(h, 16));
      }
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v))
        errors.push(`${at}: expected base64`);
      return typeof v === 'string' ? Uint8Array.from(atob(v), (c) => c.charCodeAt(0)) : v;
    }
    default:
      if (INT64.has(field.type)) {
        const ok =
          (typeof v === 'string' && /^-?\d+$/.test(v)) ||
          (typeof v === 'number' && Number.isInteger(v));
        if (!ok)
          errors.push(
            `${at}: expected a 64-bit integer (decimal string), got ${JSON.stringify(v)}`,
          );
        return typeof v === 'string'
          ? LONG.fromString(v, field.type.startsWith('u') || field.type === 'fixed64')
          : v;
      }
      if (INT32.has(field.type)) {
        if (typeof v !== 'number' || !Number.isInteger(v))
          errors.push(`${at}: expected an integer`);
        return v;
      }
      errors.push(`${at}: unhandled proto type ${field.type}`);
      return v;
  }
}
