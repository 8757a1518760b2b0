import type { Writable } from 'node:stream';
import { VoiceError } from '../errors.js';

/**
 * Writes to a response stream and, when its buffer is full (a client reading slower than the
 * answer is made), waits until it drains, so the work that produces the stream waits too
 * instead of piling its output up in memory. A reader that takes nothing for `stallMs` is
 * disconnected. Resolves false when the stream is gone and the caller should stop.
 */
export async function writeInTurn(
  out: Writable,
  chunk: string | Uint8Array,
  stallMs: number,
): Promise<boolean> {
  if (out.destroyed) return false;
  if (out.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      out.off('drain', onDrain);
      out.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => {
      out.destroy(new VoiceError('timeout', `the client read nothing for ${stallMs} ms`));
      done(false);
    }, stallMs);
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}
