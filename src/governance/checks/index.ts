/** The check registry, in the order checks run within their stage. */
import type { Check } from '../types';
import { detectorsCheck } from './detectors';
import { inputSizeCheck } from './input-size';
import { modelCheck } from './model';
import { operationCheck } from './operation';

export const checks: readonly Check[] = [
  modelCheck,
  operationCheck,
  inputSizeCheck,
  detectorsCheck,
];
