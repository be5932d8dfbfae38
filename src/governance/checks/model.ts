/**
 * Model policy. A model the key's policy allows passes; a model vakt knows (KNOWN_MODELS) that
 * the key may not use is `model_not_allowed`; anything else is `external_model_detected`.
 */
import { matchesAny } from '../policy';
import { PASS, type Check } from '../types';

export const modelCheck: Check = {
  stage: 'validation',
  run({ model, policy, knownModels }) {
    if (matchesAny(policy.models, model)) return PASS;
    const reason = matchesAny(knownModels, model) ? 'model_not_allowed' : 'external_model_detected';
    return { reasons: [reason], findings: [] };
  },
};
