/** Parses JSON typed by a person: the value, or a message saying where it breaks. */
export function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Pretty JSON for display; `—` for undefined. */
export function showJson(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value, null, 2);
}
