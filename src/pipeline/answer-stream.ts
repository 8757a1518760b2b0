import { concatFloat32 } from '../audio/pcm.js';
import type { ChatMessage, FinishReason, LlmEngine, LlmUsage } from '../engines/llm/types.js';
import type { TtsEngine } from '../engines/tts/types.js';
import { abortReason, VoiceError } from '../errors.js';
import { abortable } from './abortable.js';
import { AsyncQueue } from './async-queue.js';
import { SentenceCache, type CachedAudio } from './sentence-cache.js';
import { SentenceSplitter } from './sentence-splitter.js';
import { StageTimer } from './stage-timer.js';
import type { TurnTimeline } from './timing.js';

export interface AnswerOptions {
  llm: LlmEngine;
  /** Without a TTS the answer is text only. */
  tts?: TtsEngine | undefined;
  messages: ChatMessage[];
  signal: AbortSignal;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  /** Voice id and speaking rate: the TTS rate and the sentence cache key. */
  voice: string;
  speed: number;
  cache?: SentenceCache | undefined;
  firstClauseMinChars: number;
  /** Longest wait for the first LLM token, then for each next one. */
  firstTokenTimeoutMs: number;
  /** Longest synthesis of one sentence. */
  ttsTimeoutMs: number;
  /**
   * Longest wait in an engine's queue before the LLM or a sentence's synthesis starts; the stage's
   * own limit starts when it leaves the queue. Defaults to the stage's limit.
   */
  queueTimeoutMs?: number | undefined;
  /** `batch` for HTTP answers: a voice turn's work goes first. */
  priority?: 'live' | 'batch' | undefined;
  timeline?: TurnTimeline | undefined;
}

export type AnswerEvent =
  | { type: 'text'; delta: string }
  /** One sentence (or first clause) synthesized, in answer order. */
  | { type: 'audio'; text: string; audio: CachedAudio }
  /** Last: everything was written and synthesized. */
  | { type: 'done'; text: string; usage: LlmUsage; finishReason: FinishReason };

/**
 * The answer to a conversation as it is written: LLM text deltas, and with a TTS each sentence's
 * audio as soon as it is synthesized, while the LLM goes on writing. The first failure (a stage
 * timeout, an engine error, an empty answer) ends the stream with that error and stops the other
 * stage; leaving the loop early, or aborting `signal`, stops both.
 */
export async function* streamAnswer(o: AnswerOptions): AsyncGenerator<AnswerEvent> {
  if (o.signal.aborted) throw abortReason(o.signal);
  const controller = new AbortController();
  const onAbort = () => controller.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const out = new AsyncQueue<AnswerEvent>();
  const sentences = new AsyncQueue<string>();
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    controller.abort(err);
  };
  const result = {
    text: '',
    usage: { promptTokens: 0, completionTokens: 0 },
    finishReason: 'stop' as FinishReason,
  };
  const speaking = o.tts ? speak(o, o.tts, sentences, out, controller.signal).catch(fail) : undefined;
  const thinking = think(o, sentences, out, controller.signal, result)
    .catch(fail)
    .finally(() => sentences.end());
  const finished = Promise.all([thinking, speaking]).finally(() => out.end());
  try {
    for await (const event of out) yield event;
    await finished;
    if (failure !== undefined) throw o.signal.aborted ? abortReason(o.signal) : asError(failure);
    yield { type: 'done', ...result };
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort(new VoiceError('aborted', 'answer no longer read'));
  }
}

async function think(
  o: AnswerOptions,
  sentences: AsyncQueue<string>,
  out: AsyncQueue<AnswerEvent>,
  signal: AbortSignal,
  result: { text: string; usage: LlmUsage; finishReason: FinishReason },
): Promise<void> {
  const splitter = new SentenceSplitter({ firstClauseMinChars: o.firstClauseMinChars });
  const stage = new StageTimer(signal, o.firstTokenTimeoutMs);
  const toSpeech = (chunks: string[]) => {
    for (const s of chunks) {
      o.timeline?.mark('first_sentence');
      sentences.push(s);
    }
  };
  stage.arm('first LLM token');
  try {
    const stream = o.llm.chat(o.messages, {
      signal: stage.signal,
      onQueued: () => stage.arm('waiting for the LLM', o.queueTimeoutMs),
      onStart: () => stage.arm('first LLM token'),
      ...(o.priority ? { priority: o.priority } : {}),
      ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
      ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    });
    for await (const event of abortable(stream, stage.signal)) {
      if (event.type === 'done') {
        result.usage = event.usage;
        result.finishReason = event.finishReason;
        break;
      }
      o.timeline?.mark('first_llm_token');
      stage.arm('the next LLM token');
      result.text += event.text;
      out.push({ type: 'text', delta: event.text });
      if (o.tts) toSpeech(splitter.push(event.text));
    }
    if (stage.signal.aborted) throw abortReason(stage.signal);
    o.timeline?.mark('llm_done');
    if (o.tts) toSpeech(splitter.flush());
  } finally {
    stage.dispose();
  }
  if (result.text.trim() === '') throw new VoiceError('engine_failed', 'the LLM wrote an empty answer');
}

async function speak(
  o: AnswerOptions,
  tts: TtsEngine,
  sentences: AsyncQueue<string>,
  out: AsyncQueue<AnswerEvent>,
  signal: AbortSignal,
): Promise<void> {
  for await (const sentence of sentences) {
    if (signal.aborted) throw abortReason(signal);
    const key = SentenceCache.key(o.voice, o.speed, sentence);
    let audio = o.cache?.get(key);
    if (!audio) {
      audio = await synthesize(o, tts, sentence, signal);
      o.cache?.set(key, audio);
    }
    o.timeline?.mark('first_tts_chunk');
    out.push({ type: 'audio', text: sentence, audio });
  }
}

async function synthesize(o: AnswerOptions, tts: TtsEngine, sentence: string, signal: AbortSignal) {
  const stage = new StageTimer(signal, o.ttsTimeoutMs);
  stage.arm('synthesis of a sentence');
  const parts: Float32Array[] = [];
  let sampleRate = 0;
  try {
    const stream = tts.synthesize(sentence, {
      signal: stage.signal,
      rate: o.speed,
      onQueued: () => stage.arm('waiting for the voice', o.queueTimeoutMs),
      onStart: () => stage.arm('synthesis of a sentence'),
      ...(o.priority ? { priority: o.priority } : {}),
    });
    for await (const chunk of abortable(stream, stage.signal)) {
      parts.push(chunk.samples);
      sampleRate = chunk.sampleRate;
    }
    if (stage.signal.aborted) throw abortReason(stage.signal);
  } catch (err) {
    if (stage.signal.aborted) throw abortReason(stage.signal);
    throw err;
  } finally {
    stage.dispose();
  }
  return { samples: concatFloat32(parts), sampleRate: sampleRate || 22050 };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new VoiceError('engine_failed', String(err));
}
