import { abortReason, VoiceError } from '../errors.js';

/**
 * Settles with the promise, or rejects with the signal's reason as soon as it aborts, even when the
 * engine behind the promise ignores the signal (an engine that never answers must not wedge a turn).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the engine's own rejection through
        reject(err);
      },
    );
  });
}

/** Iterates a stream; each step is `raceAbort`ed, and the source is told to stop when we leave. */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const step = await raceAbort(it.next(), signal);
      if (step.done) return;
      yield step.value;
    }
  } finally {
    // Not awaited: a source that ignores its signal may never settle.
    void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/** Runs `work` with a signal that aborts after `ms` (a `timeout` error naming `what`); never waits longer. */
export async function withTimeout<T>(
  work: (signal: AbortSignal) => Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new VoiceError('timeout', `${what} took longer than ${ms} ms`)),
    ms,
  );
  try {
    return await raceAbort(work(controller.signal), controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
