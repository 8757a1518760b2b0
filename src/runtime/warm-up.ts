import { concatFloat32 } from '../audio/pcm.js';
import { resample } from '../audio/resample.js';
import type { LlmEngine } from '../engines/llm/types.js';
import type { SttEngine } from '../engines/stt/types.js';
import type { TtsEngine } from '../engines/tts/types.js';
import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, type VadEngine } from '../engines/vad/types.js';
import { VoiceError } from '../errors.js';
import { withTimeout } from '../pipeline/abortable.js';

const PHRASES: Record<string, string> = {
  fr: 'Bonjour, je suis prêt à vous aider.',
  en: 'Hello, I am ready to help you.',
};

export interface WarmUpOptions {
  timeoutMs: number;
  /** The system prompt of real turns: the LLM then meets it first here. */
  instructions: string;
  onWarm: (stage: 'vad' | 'stt' | 'llm' | 'tts', ms: number) => void;
}

/**
 * Whisper's warm-up encodes a short window: 128 positions (2.6 s of context) run the encoder and
 * the decoder as a turn does, in 0.15 s on 2 cores instead of the 1.5 s of a full turn's 750.
 * Nothing is allocated lazily by the window's size (a second full turn takes as long as the
 * first), so a short run proves the engine without making the first user pay.
 */
const STT_WARM_CTX = 128;
const STT_WARM_TOKENS = 4;

async function timed<T>(
  stage: 'vad' | 'stt' | 'llm' | 'tts',
  options: WarmUpOptions,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const value = await withTimeout(work, options.timeoutMs, `warm-up of the ${stage} engine`);
  options.onWarm(stage, performance.now() - t0);
  return value;
}

/**
 * Runs the speech engines once, as a turn would, so that the first user does not pay for lazy
 * allocations, kernel selection and page faults: the TTS speaks a phrase, the VAD and Whisper
 * hear it. Reports each stage's time as it finishes.
 */
export async function warmSpeech(
  engines: { vad: VadEngine; stt: SttEngine; tts: TtsEngine },
  options: WarmUpOptions,
): Promise<void> {
  const phrase = PHRASES[engines.tts.language] ?? PHRASES.en!;
  const speech = await timed('tts', options, async (signal) => {
    const parts: Float32Array[] = [];
    let rate = 22050;
    for await (const chunk of engines.tts.synthesize(phrase, { signal })) {
      parts.push(chunk.samples);
      rate = chunk.sampleRate;
    }
    const samples = concatFloat32(parts);
    if (samples.length === 0)
      throw new VoiceError('engine_failed', 'the TTS produced no audio during warm-up');
    return resample(samples, rate, VAD_SAMPLE_RATE);
  });
  await timed('vad', options, async (signal) => {
    const stream = engines.vad.createStream();
    for (let i = 0; i + VAD_FRAME_SAMPLES <= speech.length; i += VAD_FRAME_SAMPLES)
      await stream.process(speech.subarray(i, i + VAD_FRAME_SAMPLES), signal);
  });
  await timed('stt', options, (signal) =>
    engines.stt.transcribe(
      { samples: speech, sampleRate: VAD_SAMPLE_RATE },
      {
        signal,
        speechKnown: true,
        audioCtx: STT_WARM_CTX,
        draftMaxTokens: STT_WARM_TOKENS,
        priority: 'partial',
      },
    ),
  );
}

/** The LLM writes a few tokens after the real system prompt. */
export async function warmLlm(llm: LlmEngine, language: string, options: WarmUpOptions): Promise<void> {
  await timed('llm', options, async (signal) => {
    const messages = [
      { role: 'system' as const, content: options.instructions },
      { role: 'user' as const, content: PHRASES[language] ?? PHRASES.en! },
    ];
    for await (const event of llm.chat(messages, { signal, maxTokens: 4 })) if (event.type === 'done') break;
  });
}
