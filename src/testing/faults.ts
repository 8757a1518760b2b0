import type { Audio } from '../audio/wav.js';
import { VoiceError } from '../errors.js';
import type { ChatMessage, ChatOptions, LlmEngine, LlmEvent } from '../engines/llm/types.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../engines/stt/types.js';
import type { SynthesizeOptions, TtsChunk, TtsEngine } from '../engines/tts/types.js';

/**
 * How a call goes wrong: `throw` fails it (an LLM after its first token, a voice on its second
 * sentence), `hang` never answers and ignores the abort until `FaultPlan.unhang`, `garbage`
 * answers with output that breaks the engine contract (an engine bug).
 */
export type Fault = 'throw' | 'hang' | 'garbage';

/**
 * Fault injection for tests (off unless a test wraps engines with it): the next calls of each
 * stage fail as queued, then calls pass through to the wrapped engine, real or scripted.
 */
export class FaultPlan {
  readonly stt: Fault[] = [];
  readonly llm: Fault[] = [];
  readonly tts: Fault[] = [];
  private hung: (() => void)[] = [];

  /** Ends every hang so far: those calls then fail. */
  unhang(): void {
    for (const end of this.hung.splice(0)) end();
  }

  hang(): Promise<never> {
    return new Promise<never>((_, reject) =>
      this.hung.push(() => reject(new VoiceError('engine_failed', 'injected hang ended'))),
    );
  }
}

const injected = (stage: string) => new VoiceError('engine_failed', `injected ${stage} failure`);

export function faultyStt(inner: SttEngine, plan: FaultPlan): SttEngine {
  return {
    info: inner.info,
    close: () => inner.close(),
    async transcribe(audio: Audio, options?: TranscribeOptions): Promise<Transcript> {
      const fault = options?.priority === 'partial' ? undefined : plan.stt.shift();
      if (fault === 'throw') throw injected('STT');
      if (fault === 'hang') return plan.hang();
      const transcript = await inner.transcribe(audio, options);
      return fault === 'garbage' ? ({ ...transcript, text: 42 } as unknown as Transcript) : transcript;
    },
  };
}

export function faultyLlm(inner: LlmEngine, plan: FaultPlan): LlmEngine {
  return {
    info: inner.info,
    close: () => inner.close(),
    async *chat(messages: ChatMessage[], options?: ChatOptions): AsyncIterable<LlmEvent> {
      const fault = plan.llm.shift();
      let sent = 0;
      for await (const event of inner.chat(messages, options)) {
        if (sent === 1 && fault === 'throw') throw injected('LLM');
        if (sent === 1 && fault === 'hang') await plan.hang();
        if (sent === 1 && fault === 'garbage')
          yield { type: 'delta', text: undefined } as unknown as LlmEvent;
        sent++;
        yield event;
      }
    },
  };
}

export function faultyTts(inner: TtsEngine, plan: FaultPlan): TtsEngine {
  return {
    info: inner.info,
    language: inner.language,
    close: () => inner.close(),
    async *synthesize(text: string, options?: SynthesizeOptions): AsyncIterable<TtsChunk> {
      const fault = plan.tts.shift();
      if (fault === 'throw') throw injected('TTS');
      if (fault === 'hang') await plan.hang();
      for await (const chunk of inner.synthesize(text, options))
        yield fault === 'garbage'
          ? { ...chunk, samples: new Float32Array([NaN, Infinity, 1e30]), sampleRate: 0 }
          : chunk;
    },
  };
}
