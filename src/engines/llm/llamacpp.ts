import {
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaModel,
} from 'node-llama-cpp';
import { VoiceError, throwIfAborted } from '../../errors.js';
import type { Logger } from '../../log.js';
import { loadedInfo, type Device, type EngineInfo, type EngineLoadOptions } from '../types.js';
import { SerialQueue } from '../serial.js';
import { answerTokens, LlmEventQueue } from './stream.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from './types.js';

export interface LlamaCppOptions extends EngineLoadOptions {
  contextSize: number;
  maxTokens: number;
  temperature: number;
}

/**
 * Embedded llama.cpp (node-llama-cpp) on a GGUF from the models folder. Prebuilt binaries only
 * (`build: 'never'`); `gpu: false` on CPU, since `'auto'` picks a software Vulkan device on
 * machines without a GPU. One context sequence answers one request at a time; requests queue.
 * The whole conversation is passed each turn, and node-llama-cpp reuses the evaluated prefix
 * already in the sequence, so a session's earlier turns are not evaluated again.
 */
export class LlamaCppLlm implements LlmEngine {
  private readonly jobs = new SerialQueue();

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatter: LlamaChat,
    readonly info: EngineInfo,
    private readonly options: LlamaCppOptions,
  ) {}

  static async load(modelPath: string, modelId: string, options: LlamaCppOptions): Promise<LlamaCppLlm> {
    throwIfAborted(options.signal);
    const started = performance.now();
    let device: Device = options.device;
    let fallbackReason: string | undefined;
    let llama: Llama | undefined;
    const common = {
      build: 'never' as const,
      maxThreads: options.threads,
      logLevel: LlamaLogLevel.warn,
      logger: nativeLogger(options.logger),
      progressLogs: false,
      skipDownload: true,
    };
    if (device === 'cuda') {
      try {
        llama = await getLlama({ ...common, gpu: 'cuda' });
      } catch (err) {
        fallbackReason = `CUDA build of llama.cpp not available (${(err as Error).message.split('\n')[0]})`;
        options.logger.warn({ engine: 'llama.cpp', reason: fallbackReason }, 'LLM falls back to CPU');
        device = 'cpu';
      }
    }
    try {
      llama ??= await getLlama({ ...common, gpu: false });
      const model = await llama.loadModel({
        modelPath,
        ...(options.signal ? { loadSignal: options.signal } : {}),
      });
      const context = await model.createContext({
        contextSize: options.contextSize,
        threads: options.threads,
        sequences: 1,
        ...(options.signal ? { createSignal: options.signal } : {}),
      });
      const chatter = new LlamaChat({ contextSequence: context.getSequence() });
      const info = loadedInfo('llama.cpp', modelId, options, device, started, fallbackReason);
      return new LlamaCppLlm(llama, model, context, chatter, info, options);
    } catch (err) {
      throwIfAborted(options.signal);
      throw new VoiceError(
        'engine_unavailable',
        `llama.cpp cannot load ${modelPath}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncIterable<LlmEvent> {
    const history: ChatHistoryItem[] = [...toHistory(messages), { type: 'model', response: [] }];
    const queue = new LlmEventQueue();
    const signal = options.signal;
    const run = this.jobs.run(async () => {
      if (signal?.aborted) {
        queue.end('aborted');
        return;
      }
      const meter = this.chatter.sequence.tokenMeter;
      const inputBefore = meter.usedInputTokens;
      let completionTokens = 0;
      const result = await this.chatter.generateResponse(history, {
        onTextChunk: (text) => queue.push(text),
        onToken: (tokens) => (completionTokens += tokens.length),
        maxTokens: answerTokens(options.maxTokens, this.options.maxTokens),
        temperature: options.temperature ?? this.options.temperature,
        ...(signal ? { signal, stopOnAbortSignal: true } : {}),
      });
      const stop = result.metadata.stopReason;
      queue.end(stop === 'abort' || signal?.aborted ? 'aborted' : stop === 'maxTokens' ? 'length' : 'stop', {
        promptTokens: meter.usedInputTokens - inputBefore,
        completionTokens,
      });
    });
    run.catch((err: unknown) => {
      if (signal?.aborted) queue.end('aborted');
      else
        queue.fail(
          new VoiceError('engine_failed', `llama.cpp failed: ${(err as Error).message}`, { cause: err }),
        );
    });
    return queue;
  }

  prefill(messages: ChatMessage[], options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const { signal } = options;
    if (this.jobs.size > 0 || signal?.aborted || messages.at(-1)?.role !== 'user')
      return Promise.resolve(false);
    const history = toHistory(messages);
    return this.jobs
      .run(async () => {
        if (signal?.aborted) return false;
        // maxTokens 0: evaluates the history up to the end of the user's text, generates nothing.
        await this.chatter.loadChatAndCompleteUserMessage(history, {
          initialUserPrompt: '',
          maxTokens: 0,
          ...(signal ? { signal, stopOnAbortSignal: true } : {}),
        });
        return !signal?.aborted;
      })
      .catch(() => false);
  }

  async close(): Promise<void> {
    await this.jobs.drain();
    this.chatter.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  if (messages.at(-1)?.role !== 'user')
    throw new VoiceError('invalid_argument', 'a conversation sent to the LLM must end with a user message');
  return messages.map((m): ChatHistoryItem => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'user') return { type: 'user', text: m.content };
    return { type: 'model', response: [m.content] };
  });
}

function nativeLogger(logger: Logger) {
  return (level: LlamaLogLevel, message: string) => {
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
      logger.warn({ engine: 'llama.cpp', native: message.trim() }, 'llama.cpp');
    else logger.trace({ engine: 'llama.cpp', native: message.trim() }, 'llama.cpp');
  };
}
