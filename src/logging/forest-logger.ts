import { isatty } from 'node:tty';
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Level, Logger as Pino } from 'pino';
import { ForestConfig } from '../config/forest.config';
import { prettyLine } from './pretty-log';

export type LogSettings = Pick<ForestConfig, 'logLevel' | 'logFormat' | 'nodeId'>;

/**
 * Where log lines go: stdout, written synchronously. Asynchronous writes would be faster,
 * but pino flushes a pending asynchronous buffer when the process exits, and on a closed
 * pipe (`node dist/src/main.js | head`) that flush retries EPIPE forever: the process
 * never exits and, stuck in that loop, ignores SIGTERM. A synchronous write sees EPIPE at
 * once; pino then drops further lines. Synchronous also means the last lines before a
 * failed start's exit are written, in order.
 */
export function logDestination(
  format: 'json' | 'pretty',
  out: DestinationStream = pino.destination({ dest: 1, sync: true }),
  color = isatty(1) && !process.env.NO_COLOR,
): DestinationStream {
  if (format === 'json') return out;
  return { write: (line: string) => out.write(prettyLine(line, color)) };
}

/** The node's pino logger: JSON lines (or pretty ones) with the node id, secrets redacted. */
export function createForestLogger(settings: LogSettings, destination?: DestinationStream): Pino {
  return pino(
    {
      level: settings.logLevel,
      base: { node: settings.nodeId },
      // API tokens and worker session secrets travel in these; never log them.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
    destination ?? logDestination(settings.logFormat),
  );
}

const loggers = new WeakMap<object, Pino>();

/** One logger per config: main.ts and AppModule (nestjs-pino) share it. */
export function forestLogger(config: ForestConfig): Pino {
  let logger = loggers.get(config);
  if (!logger) {
    logger = createForestLogger(config);
    loggers.set(config, logger);
  }
  return logger;
}

/**
 * Nest's LoggerService over pino, for what Nest and the host log before the app's own
 * nestjs-pino logger takes over (module loading, plugin warnings, start-up failures): the
 * same JSON lines, with `context`. Messages of the contexts in `omit` are dropped.
 */
export class PinoLoggerService implements LoggerService {
  constructor(
    private readonly pino: Pino,
    private readonly omit: readonly string[] = [],
  ) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest's contract: `(message, context)`, and `error(message, stack, context)`. */
  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context =
      typeof rest.at(-1) === 'string' && !isStack(rest.at(-1)) ? rest.pop() : undefined;
    if (typeof context === 'string' && this.omit.includes(context)) return;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    const stack = rest.find(isStack);
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...message });
    } else {
      if (stack !== undefined) fields.err = { message: String(message), stack };
      this.pino[level](fields, String(message));
    }
  }
}

function isStack(value: unknown): value is string {
  return typeof value === 'string' && /\n\s*at /.test(value);
}
