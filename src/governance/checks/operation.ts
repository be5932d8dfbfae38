/** Operation policy: the operation must be one the key's policy lists. */
import { PASS, type Check } from '../types';

export const operationCheck: Check = {
  stage: 'validation',
  run({ operation, policy }) {
    return policy.operations.includes(operation)
      ? PASS
      : { reasons: ['operation_not_allowed'], findings: [] };
  },
};
