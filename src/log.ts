import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The service logger: JSON lines (pino). CLI commands log to stderr so stdout carries only their
 * output. Transcripts and audio are logged at debug level at most.
 */
export function createLogger(level: string, destination: 1 | 2 = 1): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: destination, sync: true }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
