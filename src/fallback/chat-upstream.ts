import OpenAI from 'openai';
import { int16ToFloat32 } from '../audio/pcm.js';
import type { Config } from '../config.js';
import { OpenAiLlm } from '../engines/llm/openai.js';
import type { LlmEngine } from '../engines/llm/types.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from '../engines/tts/types.js';
import type { EngineInfo } from '../engines/types.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { SentenceCache } from '../pipeline/sentence-cache.js';
import { pcm16ToInt16 } from '../protocol/audio-format.js';
import type { FallbackReason } from './policy.js';

/**
 * The engines `/chat` and `/her/chat` fall back to: an OpenAI-compatible API's chat completions
 * for the answer and its `audio/speech` for the voice (24 kHz PCM). Nothing is checked at
 * start-up: the upstream may be down then; its calls fail with a catalogue code when it is.
 */
export class ChatUpstream {
  readonly llm: LlmEngine;
  readonly tts: TtsEngine;
  /** Upstream sentences are not kept: the local cache holds the local voices' audio. */
  readonly cache = new SentenceCache(0);

  private constructor(
    readonly config: Config['fallback']['chat'],
    llm: Config['llm'],
    language: string,
    logger: Logger,
  ) {
    this.llm = withFallbackCodes(
      OpenAiLlm.create({
        baseUrl: config.url,
        model: config.model,
        apiKey: config.apiKey,
        maxTokens: llm.maxTokens,
        temperature: llm.temperature,
        timeoutMs: config.timeoutMs,
        logger,
      }),
    );
    this.tts = new OpenAiSpeech(config, language);
  }

  /** The chat fallback, or undefined without a key or with policy `never`. */
  static fromConfig(config: Config, logger: Logger): ChatUpstream | undefined {
    const { apiKey, policy } = config.fallback.chat;
    if (apiKey === '' || policy.length === 0 || policy.includes('never')) return undefined;
    return new ChatUpstream(config.fallback.chat, config.llm, config.stt.language, logger);
  }

  allows(reason: FallbackReason): boolean {
    return this.config.policy.includes(reason);
  }

  get model(): string {
    return this.config.model;
  }
}

/** OpenAI's `POST /audio/speech` as a TTS engine: one request per sentence, PCM16 at 24 kHz. */
class OpenAiSpeech implements TtsEngine {
  readonly info: EngineInfo;
  private readonly client: OpenAI;

  constructor(
    private readonly config: Config['fallback']['chat'],
    readonly language: string,
  ) {
    this.client = new OpenAI({
      baseURL: config.url,
      apiKey: config.apiKey,
      timeout: config.timeoutMs,
      maxRetries: 0,
    });
    this.info = { engine: 'openai-speech', model: config.speechModel, device: 'cpu', threads: 0, loadMs: 0 };
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<TtsChunk> {
    options.onStart?.();
    let bytes: ArrayBuffer;
    try {
      const response = await this.client.audio.speech.create(
        {
          model: this.config.speechModel,
          voice: this.config.voice,
          input: text,
          response_format: 'pcm',
          ...(options.rate !== undefined && options.rate !== 1 ? { speed: options.rate } : {}),
        },
        options.signal ? { signal: options.signal } : {},
      );
      bytes = await response.arrayBuffer();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw fallbackError(err, 'the speech fallback');
    }
    const whole = new Uint8Array(bytes, 0, bytes.byteLength - (bytes.byteLength % 2));
    yield { samples: int16ToFloat32(pcm16ToInt16(whole)), sampleRate: 24000, text };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** An upstream failure with the fallback code of its cause: key refused, unreachable, or failed. */
function fallbackError(err: unknown, what: string): VoiceError {
  const cause = err instanceof VoiceError && err.cause !== undefined ? err.cause : err;
  const message = `${what} failed: ${(cause as Error).message}`;
  if (cause instanceof OpenAI.AuthenticationError || cause instanceof OpenAI.PermissionDeniedError)
    return new VoiceError('fallback_auth_failed', message, { cause });
  if (cause instanceof OpenAI.APIConnectionError)
    return new VoiceError('fallback_unavailable', message, { cause });
  return new VoiceError('fallback_failed', message, { cause });
}

function withFallbackCodes(llm: LlmEngine): LlmEngine {
  return {
    info: llm.info,
    close: () => llm.close(),
    async *chat(messages, options) {
      try {
        yield* llm.chat(messages, options);
      } catch (err) {
        if (options?.signal?.aborted) throw err;
        throw fallbackError(err, 'the chat fallback');
      }
    },
  };
}
