// Reading raw API objects defensively: a field of the wrong type is treated as absent, never
// thrown on, so one odd object from a newer or broken server costs that object, not the watch.

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The string, or '' for anything else. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** metadata.resourceVersion of any object (an item, a bookmark, a list), or undefined. */
export function resourceVersionOf(raw: unknown): string | undefined {
  return str(asObject(asObject(raw)?.['metadata'])?.['resourceVersion']) || undefined;
}

/** metadata.uid of any object, or undefined. */
export function uidOf(raw: unknown): string | undefined {
  return str(asObject(asObject(raw)?.['metadata'])?.['uid']) || undefined;
}
