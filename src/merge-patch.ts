/**
 * JSON Merge Patch (RFC 7396): what PATCH /admin/keys/{id} applies to a key's policy override.
 * An object in the patch merges member by member, recursively; `null` removes a member; any other
 * value (arrays included) replaces. Schema-free on purpose: the result is validated afterwards
 * with the same schema as a created policy, so a new policy field needs no second definition here.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396 §2 MergePatch(target, patch). Returns a new value; neither input is modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name];
    else out[name] = mergePatch(out[name], value);
  }
  return out;
}
