import type { EngineInfo } from '../types.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatOptions {
  signal?: AbortSignal;
  maxTokens?: number;
  temperature?: number;
  /** `live` (default): a voice turn, answered before queued `batch` (HTTP) work. */
  priority?: 'live' | 'batch';
  /** Called when the work has to wait in the engine's queue (engines without a queue never call it). */
  onQueued?: () => void;
  /** Called when the answer leaves the engine's queue and starts: its time limits start here. */
  onStart?: () => void;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Milliseconds on the performance.now() clock, from the call. */
export interface LlmTiming {
  firstTokenMs: number | null;
  totalMs: number;
  tokensPerSec: number;
}

export type FinishReason = 'stop' | 'length' | 'aborted';

/** A streamed answer: text deltas as the model writes them, then one `done` with usage and timing. */
export type LlmEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; finishReason: FinishReason; usage: LlmUsage; timing: LlmTiming };

export interface LlmEngine {
  readonly info: EngineInfo;
  /**
   * Streams the assistant's answer to a conversation. Aborting the signal ends the stream promptly
   * with a `done` event whose finishReason is `aborted` (what was written so far stays delivered).
   */
  chat(messages: ChatMessage[], options?: ChatOptions): AsyncIterable<LlmEvent>;
  /**
   * Reads a conversation (ending with a user message) into the engine's cache without answering,
   * so that a `chat` on it, or on it with a few more tokens, starts sooner. Skipped (false) when
   * the engine has other work queued: it would only delay that work. Never throws.
   */
  prefill?(messages: ChatMessage[], options?: { signal?: AbortSignal }): Promise<boolean>;
  close(): Promise<void>;
}
