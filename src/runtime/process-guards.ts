import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';

const describe = (reason: unknown) =>
  reason instanceof Error ? { err: reason.message, stack: reason.stack } : { err: String(reason) };

/**
 * What the server does with a bug that escaped every handler. A rejected promise nobody awaited
 * lost one piece of work but left the process sound: it is logged and every other session goes
 * on (Node would end the process). An uncaught exception may have left state half-changed: it is
 * logged and the server shuts down gracefully (`onFatal`), for its supervisor to restart it.
 */
export function installProcessGuards(
  logger: Logger,
  onFatal: (err: unknown) => void,
  proc: EventEmitter = process,
): void {
  proc.on('unhandledRejection', (reason: unknown) =>
    logger.error(describe(reason), 'unhandled promise rejection (a bug): logged, the server goes on'),
  );
  proc.on('uncaughtException', (err: unknown) => {
    logger.fatal(describe(err), 'uncaught exception (a bug): shutting down');
    onFatal(err);
  });
}
