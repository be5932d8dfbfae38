/** Input size policy: at most `max_input_chars` Unicode code points across all messages. */
import { PASS, type Check } from '../types';

export const inputSizeCheck: Check = {
  stage: 'validation',
  run({ inputChars, policy }) {
    return inputChars > policy.max_input_chars
      ? { reasons: ['input_too_large'], findings: [] }
      : PASS;
  },
};
