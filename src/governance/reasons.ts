/** The fixed vocabulary of block reasons (a product contract; see SPEC "POST /v1/check"). */
export const REASONS = [
  'model_not_allowed',
  'external_model_detected',
  'operation_not_allowed',
  'contains_personal_data',
  'contains_secret',
  'input_too_large',
] as const;

export type Reason = (typeof REASONS)[number];
