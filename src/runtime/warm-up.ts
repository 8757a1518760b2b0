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

export interface WarmUpTarget {
  vad: VadEngine;
  stt: SttEngine;
  llm: LlmEngine;
  tts: TtsEngine;
}

/**
 * Runs every engine once, as a request would, so that the first user does not pay for lazy
 * allocations, kernel selection and page faults: the TTS speaks a phrase, the VAD and Whisper
 * hear it, the LLM writes a few tokens. Reports each stage's time as it finishes.
 */
export async function warmUp(
  engines: WarmUpTarget,
  options: {
    timeoutMs: number;
    /** The system prompt of real turns: the LLM then meets it first here. */
    instructions: string;
    onWarm: (stage: keyof WarmUpTarget, ms: number) => void;
  },
): Promise<void> {
  const timed = async <T>(
    stage: keyof WarmUpTarget,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const t0 = performance.now();
    const value = await withTimeout(work, options.timeoutMs, `warm-up of the ${stage} engine`);
    options.onWarm(stage, performance.now() - t0);
    return value;
  };
  const phrase = PHRASES[engines.tts.language] ?? PHRASES.en!;
  const speech = await timed('tts', async (signal) => {
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
  await timed('vad', async (signal) => {
    const stream = engines.vad.createStream();
    for (let i = 0; i + VAD_FRAME_SAMPLES <= speech.length; i += VAD_FRAME_SAMPLES)
      await stream.process(speech.subarray(i, i + VAD_FRAME_SAMPLES), signal);
  });
  await timed('stt', (signal) =>
    engines.stt.transcribe({ samples: speech, sampleRate: VAD_SAMPLE_RATE }, { signal, speechKnown: true }),
  );
  await timed('llm', async (signal) => {
    const messages = [
      { role: 'system' as const, content: options.instructions },
      { role: 'user' as const, content: phrase },
    ];
    for await (const event of engines.llm.chat(messages, { signal, maxTokens: 4 }))
      if (event.type === 'done') break;
  });
}
