/**
 * Label values with bounded cardinality. Caller-controlled strings (model, operation) only become
 * label values when vakt recognises them; everything else folds into one overflow value.
 */
import { matchesAny } from '../governance/policy';

/** Label value for a model outside KNOWN_MODELS (as in the original service). */
export const EXTERNAL_MODEL_LABEL = 'external-model';
/** Label value for an operation no policy in force names. */
export const OTHER_OPERATION_LABEL = '*';
const MAX_LABEL_LENGTH = 64;

export function modelLabel(model: string, knownModels: readonly string[]): string {
  return matchesAny(knownModels, model) && model.length <= MAX_LABEL_LENGTH
    ? model.toLowerCase()
    : EXTERNAL_MODEL_LABEL;
}

export function operationLabel(operation: string, knownOperations: readonly string[]): string {
  return knownOperations.includes(operation) ? operation : OTHER_OPERATION_LABEL;
}
