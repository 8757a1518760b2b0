import OpenAI from 'openai';
import { VoiceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EngineInfo } from '../types.js';
import { answerTokens, LlmEventQueue } from './stream.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from './types.js';

export interface OpenAiOptions {
  baseUrl: string;
  model: string;
  apiKey: string;
  maxTokens: number;
  temperature: number;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Any OpenAI-compatible chat-completions API (vLLM, llama.cpp's server, LM Studio, Ollama's /v1,
 * OpenAI): how a deployment moves the LLM to a pool of GPU servers. Streams with usage.
 */
export class OpenAiLlm implements LlmEngine {
  private constructor(
    private readonly client: OpenAI,
    readonly info: EngineInfo,
    private readonly options: OpenAiOptions,
  ) {}

  /** Checks that the server answers (its model list), so a wrong URL fails at start-up. */
  static async connect(options: OpenAiOptions): Promise<OpenAiLlm> {
    const started = performance.now();
    const llm = OpenAiLlm.create(options);
    try {
      const ids: string[] = [];
      for await (const m of llm.client.models.list()) ids.push(m.id);
      if (ids.length > 0 && !ids.includes(options.model))
        options.logger.warn(
          { engine: 'openai', model: options.model, available: ids.slice(0, 20) },
          'model not listed by the server',
        );
    } catch (err) {
      throw new VoiceError(
        'engine_unavailable',
        `the OpenAI-compatible API at ${options.baseUrl} does not answer (${(err as Error).message})`,
        {
          cause: err,
        },
      );
    }
    llm.info.loadMs = performance.now() - started;
    return llm;
  }

  /** Without a check: a server that may be down now (a fallback), whose calls fail when it is. */
  static create(options: OpenAiOptions): OpenAiLlm {
    const client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey || 'not-needed',
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
    const info: EngineInfo = { engine: 'openai', model: options.model, device: 'cpu', threads: 0, loadMs: 0 };
    return new OpenAiLlm(client, info, options);
  }

  chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    const queue = new LlmEventQueue();
    const signal = options.signal;
    void (async () => {
      if (signal?.aborted) return queue.end('aborted');
      const stream = await this.client.chat.completions.create(
        {
          model: this.options.model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: answerTokens(options.maxTokens, this.options.maxTokens),
          temperature: options.temperature ?? this.options.temperature,
        },
        signal ? { signal } : {},
      );
      let finish: 'stop' | 'length' = 'stop';
      let usage: { promptTokens: number; completionTokens: number } | undefined;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta?.content) queue.push(choice.delta.content);
        if (choice?.finish_reason === 'length') finish = 'length';
        if (chunk.usage)
          usage = {
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
          };
      }
      queue.end(signal?.aborted ? 'aborted' : finish, usage);
    })().catch((err: unknown) => {
      if (signal?.aborted) queue.end('aborted');
      else
        queue.fail(
          new VoiceError('engine_failed', `OpenAI-compatible API failed: ${(err as Error).message}`, {
            cause: err,
          }),
        );
    });
    return queue;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
