/**
 * Settings for plugins, read from the node's environment (captured once at start-up).
 * Inject it into a plugin provider: `constructor(private readonly settings: PluginSettings)`.
 * Name your variables after your plugin (`FOREST_WEBHOOK_URL`) and read them when the
 * provider is created, so a bad value stops the boot with your message.
 */
export abstract class PluginSettings {
  /** The raw value, or undefined when unset or blank. */
  abstract get(name: string): string | undefined;

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.get(name) ?? fallback;
  }

  /** A whole number in [min, max]; throws naming the variable otherwise. */
  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      throw new Error(`${name}: "${raw}" is not a whole number in ${min}..${max}`);
    }
    return value;
  }

  /** A JSON value; throws naming the variable when it does not parse. */
  json<T>(name: string, fallback: T): T {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    try {
      return JSON.parse(raw) as T;
    } catch {
      // The parser's message quotes the text, which may hold secrets (API keys in headers).
      throw new Error(`${name}: not valid JSON (its value is not shown: it may hold secrets)`);
    }
  }
}
