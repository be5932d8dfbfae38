/**
 * Label values from closed vocabularies. A caller's `model` and `operation` are never label
 * values themselves: the model label is an entry of KNOWN_MODELS (an exact id, or the most
 * specific matching pattern), the operation label an operation a policy in force names. Anything
 * else is one fixed value. So /metrics can only show strings an operator configured, and the
 * number of series is bounded by configuration, not by traffic (docs/metrics.md, "Label values").
 */
import { globMatch } from '../governance/policy';
import { isCleanIdentifier } from '../pii/identifier';

/** Label value for a model outside KNOWN_MODELS (as in the original service). */
export const EXTERNAL_MODEL_LABEL = 'external-model';
/** Label value for an operation no policy in force names. */
export const OTHER_OPERATION_LABEL = '*';

interface ModelVocabulary {
  /** Lower-cased exact ids (entries without `*`). */
  exact: Set<string>;
  /** Lower-cased patterns, most specific first (most literal characters, then config order). */
  patterns: string[];
}

const vocabularies = new WeakMap<readonly string[], ModelVocabulary>();

/** The model vocabulary of a KNOWN_MODELS list, built once per (immutable) config list. */
function vocabulary(knownModels: readonly string[]): ModelVocabulary {
  let v = vocabularies.get(knownModels);
  if (v) return v;
  const entries = [...new Set(knownModels.map((m) => m.toLowerCase()))];
  const literal = (p: string) => p.replace(/\*/g, '').length;
  v = {
    exact: new Set(entries.filter((m) => !m.includes('*'))),
    // Array.prototype.sort is stable, so equally specific patterns keep their config order.
    patterns: entries.filter((m) => m.includes('*')).sort((a, b) => literal(b) - literal(a)),
  };
  vocabularies.set(knownModels, v);
  return v;
}

/**
 * The `model` label: the model itself (lower-cased) only when KNOWN_MODELS lists it exactly;
 * else the most specific KNOWN_MODELS pattern it matches (`gpt-4o*` before `gpt-*`); else
 * `external-model`. config.ts guarantees every entry is a clean, well-formed identifier.
 */
export function modelLabel(model: string, knownModels: readonly string[]): string {
  const v = vocabulary(knownModels);
  const lower = model.toLowerCase();
  if (v.exact.has(lower)) return lower;
  for (const p of v.patterns) if (globMatch(p, lower)) return p;
  return EXTERNAL_MODEL_LABEL;
}

const cleanOperations = new WeakMap<readonly string[], Set<string>>();

/**
 * The `operation` label: the operation when a policy in force names it (policy operations are
 * validated lower-case words) and it carries no personal data by vakt's identifier rules; else `*`.
 */
export function operationLabel(operation: string, knownOperations: readonly string[]): string {
  let clean = cleanOperations.get(knownOperations);
  if (!clean) {
    clean = new Set(knownOperations.filter(isCleanIdentifier));
    cleanOperations.set(knownOperations, clean);
  }
  return clean.has(operation) ? operation : OTHER_OPERATION_LABEL;
}
