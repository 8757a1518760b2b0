import { Ollama } from 'ollama';
import { VoiceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EngineInfo } from '../types.js';
import { answerTokens, LlmEventQueue } from './stream.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from './types.js';

export interface OllamaOptions {
  host: string;
  model: string;
  keepAlive: string;
  threads: number;
  contextSize: number;
  maxTokens: number;
  temperature: number;
  /** Start-up checks, and a request that sends nothing for this long, are aborted. */
  timeoutMs: number;
  logger: Logger;
}

/** `127.0.0.1:11434` (how OLLAMA_HOST is often written) → `http://127.0.0.1:11434`. */
export function ollamaUrl(host: string): string {
  return /^https?:\/\//.test(host) ? host.replace(/\/+$/, '') : `http://${host}`;
}

/** Ollama's keep_alive: a number of seconds (-1 = forever) or a duration such as "30m". */
function keepAlive(value: string): string | number {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/**
 * An Ollama server through its npm client: streaming /api/chat with `keep_alive`, `num_thread`
 * and `num_ctx` from the config. `connect` checks that the server answers and has the model, and
 * loads it, so the first turn is not cold.
 */
export class OllamaLlm implements LlmEngine {
  /** Answers being written (a prefill waits for none of them: it would delay them). */
  private answering = 0;

  private constructor(
    private readonly client: Ollama,
    private readonly host: string,
    readonly info: EngineInfo,
    private readonly options: OllamaOptions,
  ) {}

  static async connect(options: OllamaOptions): Promise<OllamaLlm> {
    const host = ollamaUrl(options.host);
    const started = performance.now();
    const client = new Ollama({ host, fetch: timedFetch(options.timeoutMs) });
    try {
      await client.version();
    } catch (err) {
      throw new VoiceError('engine_unavailable', `no Ollama server answers at ${host} (${causeOf(err)})`, {
        cause: err,
      });
    }
    const { models } = await client.list();
    const names = models.map((m) => m.name);
    const wanted = options.model.includes(':') ? options.model : `${options.model}:latest`;
    if (!names.includes(wanted))
      throw new VoiceError(
        'engine_unavailable',
        `Ollama at ${host} has no model "${options.model}" (it has: ${names.join(', ') || 'none'}); fix: ollama pull ${options.model}, or from a GGUF: printf 'FROM ./MODEL.gguf\\n' > Modelfile && ollama create ${options.model} -f Modelfile`,
      );
    // An empty generate loads the model and keeps it resident for keep_alive.
    await client.generate({
      model: options.model,
      prompt: '',
      keep_alive: keepAlive(options.keepAlive),
      options: { num_thread: options.threads, num_ctx: options.contextSize },
    });
    const info: EngineInfo = {
      engine: 'ollama',
      model: options.model,
      device: 'cpu',
      threads: options.threads,
      loadMs: performance.now() - started,
    };
    return new OllamaLlm(client, host, info, options);
  }

  chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    const queue = new LlmEventQueue();
    const signal = options.signal;
    const o = this.options;
    this.answering++;
    let answered = false;
    const release = () => {
      if (!answered) this.answering--;
      answered = true;
    };
    void (async () => {
      if (signal?.aborted) return queue.end('aborted');
      // The answer's headers come with its first token, after the prompt is evaluated: a client
      // whose fetch holds the caller's signal lets a barge-in cut that wait too.
      const client = signal
        ? new Ollama({ host: this.host, fetch: timedFetch(o.timeoutMs, signal) })
        : this.client;
      const stream = await client.chat({
        model: o.model,
        messages,
        stream: true,
        keep_alive: keepAlive(o.keepAlive),
        options: {
          num_thread: o.threads,
          num_ctx: o.contextSize,
          num_predict: answerTokens(options.maxTokens, o.maxTokens),
          temperature: options.temperature ?? o.temperature,
        },
      });
      let timedOut = false;
      const stop = () => stream.abort();
      const stall = () => {
        timedOut = true;
        stream.abort();
      };
      signal?.addEventListener('abort', stop, { once: true });
      if (signal?.aborted) stop();
      let idle = setTimeout(stall, o.timeoutMs);
      try {
        for await (const part of stream) {
          clearTimeout(idle);
          idle = setTimeout(stall, o.timeoutMs);
          queue.push(part.message.content);
          if (part.done) {
            release(); // before the caller hears of the end
            queue.end(part.done_reason === 'length' ? 'length' : 'stop', {
              promptTokens: part.prompt_eval_count,
              completionTokens: part.eval_count,
            });
          }
        }
      } catch (err) {
        if (timedOut)
          throw new VoiceError('timeout', `Ollama sent nothing for ${o.timeoutMs} ms`, { cause: err });
        throw err;
      } finally {
        clearTimeout(idle);
        signal?.removeEventListener('abort', stop);
      }
      queue.end(signal?.aborted ? 'aborted' : 'stop');
    })()
      .catch((err: unknown) => {
        if (signal?.aborted) queue.end('aborted');
        else
          queue.fail(
            err instanceof VoiceError
              ? err
              : new VoiceError('engine_failed', `Ollama failed: ${causeOf(err)}`, { cause: err }),
          );
      })
      .finally(release);
    return queue;
  }

  /**
   * One token of an answer (Ollama cannot evaluate a prompt without writing): the runner keeps the
   * prompt in its cache, and the answer that follows shares all of it.
   */
  async prefill(messages: ChatMessage[], options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const { signal } = options;
    if (this.answering > 0 || signal?.aborted) return false;
    const o = this.options;
    try {
      await new Ollama({ host: this.host, fetch: timedFetch(o.timeoutMs, signal) }).chat({
        model: o.model,
        messages,
        stream: false,
        keep_alive: keepAlive(o.keepAlive),
        options: { num_thread: o.threads, num_ctx: o.contextSize, num_predict: 1 },
      });
      return !signal?.aborted;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    this.client.abort();
    return Promise.resolve();
  }
}

function timedFetch(timeoutMs: number, callSignal?: AbortSignal): typeof fetch {
  // The response headers must arrive within the timeout; a streamed body is then watched by the
  // caller's idle timer (a timeout signal on the fetch would also cut a long answer).
  return async (input, init) => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    for (const outer of [init?.signal, callSignal]) {
      if (outer?.aborted) controller.abort(outer.reason);
      outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
    }
    try {
      return await fetch(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ?? e.message;
}
