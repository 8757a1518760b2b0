import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { installProcessGuards } from './process-guards.js';

describe('process guards', () => {
  it('an unhandled rejection is logged and the server goes on; an uncaught exception shuts it down', () => {
    const lines: { level: number; msg: string; err: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as never) });
    const proc = new EventEmitter();
    const fatal: unknown[] = [];
    installProcessGuards(logger, (err) => fatal.push(err), proc);
    proc.emit('unhandledRejection', new Error('lost work'));
    expect(fatal).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ level: 50, err: 'lost work' });
    const boom = new Error('boom');
    proc.emit('uncaughtException', boom);
    expect(fatal).toEqual([boom]);
    expect(lines.at(-1)).toMatchObject({ level: 60, err: 'boom' });
  });
});
