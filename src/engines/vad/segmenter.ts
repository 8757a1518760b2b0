import { Resampler } from '../../audio/resample.js';
import { VoiceError } from '../../errors.js';
import {
  VAD_FRAME_SAMPLES,
  VAD_SAMPLE_RATE,
  type SegmenterOptions,
  type SpeechSegment,
  type VadEngine,
  type VadEvent,
  type VadStream,
} from './types.js';

export const SEGMENTER_RATES = [8000, 16000, 24000, 48000] as const;
/** Speech ends when the probability falls below threshold minus this (Silero's hysteresis). */
const END_HYSTERESIS = 0.15;

/**
 * Streaming speech segmenter over a VAD stream: push audio of any length at 8, 16, 24 or 48 kHz,
 * get speech start/end events. A start is reported once `minSpeechMs` of speech has accumulated
 * (its timestamp is where that speech began); an end once `minSilenceMs` of silence has followed
 * (its timestamp is the end of the last frame at or above the threshold; frames between the two
 * thresholds neither end nor extend the speech). Positions are counted in samples of the input.
 */
export class VadSegmenter {
  private readonly stream: VadStream;
  private readonly resampler: Resampler | undefined;
  private pending = new Float32Array(0);
  private frameIndex = 0;
  private triggered = false;
  private candidateStart: number | null = null;
  private speechSamples = 0;
  private silenceStart: number | null = null;
  private segmentStart = 0;
  /** End of the last frame at or above the threshold: where the reported speech ends. */
  private lastSpeechEnd = 0;
  /** An `onset` went out and neither `speech_start` nor `onset_dropped` has followed. */
  private onsetReported = false;
  /** Probability of each processed frame, kept only when `keepProbabilities` is set. */
  readonly probabilities: number[] = [];

  constructor(
    engine: VadEngine,
    private readonly options: SegmenterOptions,
    readonly inputRate: number = VAD_SAMPLE_RATE,
    private readonly keepProbabilities = false,
  ) {
    if (!(SEGMENTER_RATES as readonly number[]).includes(inputRate))
      throw new VoiceError(
        'unsupported_audio_format',
        `VAD input rate ${inputRate} Hz is not supported (${SEGMENTER_RATES.join(', ')} Hz)`,
      );
    this.stream = engine.createStream();
    this.resampler = inputRate === VAD_SAMPLE_RATE ? undefined : new Resampler(inputRate, VAD_SAMPLE_RATE);
  }

  /** True between a speech start and its end. */
  get inSpeech(): boolean {
    return this.triggered;
  }

  async push(samples: Float32Array, signal?: AbortSignal): Promise<VadEvent[]> {
    const audio = this.resampler ? this.resampler.push(samples) : samples;
    return this.consume(audio, signal);
  }

  /** Ends the stream: pads the last partial frame with silence and closes an open segment. */
  async flush(signal?: AbortSignal): Promise<VadEvent[]> {
    const tail = this.resampler ? this.resampler.flush() : new Float32Array(0);
    const events = await this.consume(tail, signal);
    const end = this.frameIndex * VAD_FRAME_SAMPLES + this.pending.length;
    if (this.pending.length > 0) {
      const frame = new Float32Array(VAD_FRAME_SAMPLES);
      frame.set(this.pending);
      this.pending = new Float32Array(0);
      events.push(...(await this.step(frame, signal)));
    }
    if (this.triggered) events.push(this.endEvent(Math.min(this.lastSpeechEnd, end)));
    this.resetState();
    return events;
  }

  /** Forgets everything (new stream). */
  reset(): void {
    this.resampler?.flush();
    this.pending = new Float32Array(0);
    this.frameIndex = 0;
    this.stream.reset();
    this.resetState();
  }

  private resetState() {
    this.triggered = false;
    this.onsetReported = false;
    this.candidateStart = null;
    this.speechSamples = 0;
    this.silenceStart = null;
  }

  private async consume(audio: Float32Array, signal?: AbortSignal): Promise<VadEvent[]> {
    const events: VadEvent[] = [];
    let buf = audio;
    if (this.pending.length > 0) {
      buf = new Float32Array(this.pending.length + audio.length);
      buf.set(this.pending);
      buf.set(audio, this.pending.length);
    }
    let offset = 0;
    for (; offset + VAD_FRAME_SAMPLES <= buf.length; offset += VAD_FRAME_SAMPLES)
      events.push(...(await this.step(buf.subarray(offset, offset + VAD_FRAME_SAMPLES), signal)));
    this.pending = buf.slice(offset);
    return events;
  }

  private async step(frame: Float32Array, signal?: AbortSignal): Promise<VadEvent[]> {
    const p = await this.stream.process(frame, signal);
    if (this.keepProbabilities) this.probabilities.push(p);
    const start = this.frameIndex * VAD_FRAME_SAMPLES;
    this.frameIndex++;
    const o = this.options;
    const minSpeech = (o.minSpeechMs * VAD_SAMPLE_RATE) / 1000;
    const minSilence = (o.minSilenceMs * VAD_SAMPLE_RATE) / 1000;
    if (!this.triggered) {
      if (p >= o.threshold) {
        if (this.candidateStart === null) {
          this.candidateStart = start;
          if (o.reportOnsets) this.onsetReported = true;
        }
        this.speechSamples += VAD_FRAME_SAMPLES;
        if (this.speechSamples >= minSpeech) {
          this.triggered = true;
          this.onsetReported = false;
          this.segmentStart = this.candidateStart;
          this.silenceStart = null;
          this.lastSpeechEnd = start + VAD_FRAME_SAMPLES;
          return [this.startEvent(this.segmentStart)];
        }
        if (this.onsetReported && this.speechSamples === VAD_FRAME_SAMPLES)
          return [{ type: 'onset', sample: this.toInput(start) }];
      } else if (p < o.threshold - END_HYSTERESIS) {
        this.candidateStart = null;
        this.speechSamples = 0;
        if (this.onsetReported) {
          this.onsetReported = false;
          return [{ type: 'onset_dropped', sample: this.toInput(start) }];
        }
      }
      return [];
    }
    const events: VadEvent[] = [];
    if (p >= o.threshold) {
      if (this.silenceStart !== null) events.push({ type: 'silence_broken', sample: this.toInput(start) });
      this.silenceStart = null;
      this.lastSpeechEnd = start + VAD_FRAME_SAMPLES;
    } else if (p < o.threshold - END_HYSTERESIS) {
      if (this.silenceStart === null) {
        this.silenceStart = start;
        events.push({ type: 'silence_started', sample: this.toInput(start) });
      }
      if (start + VAD_FRAME_SAMPLES - this.silenceStart >= minSilence) {
        events.push(this.endEvent(this.lastSpeechEnd));
        this.resetState();
      }
    }
    return events;
  }

  private toInput(sample16k: number): number {
    return Math.round((sample16k * this.inputRate) / VAD_SAMPLE_RATE);
  }

  private startEvent(start16k: number): VadEvent {
    const pad = (this.options.prefixPaddingMs * VAD_SAMPLE_RATE) / 1000;
    return {
      type: 'speech_start',
      startSample: this.toInput(start16k),
      paddedStartSample: this.toInput(Math.max(0, start16k - pad)),
      startSec: start16k / VAD_SAMPLE_RATE,
    };
  }

  private endEvent(end16k: number): VadEvent {
    return {
      type: 'speech_end',
      startSample: this.toInput(this.segmentStart),
      endSample: this.toInput(end16k),
      startSec: this.segmentStart / VAD_SAMPLE_RATE,
      endSec: end16k / VAD_SAMPLE_RATE,
    };
  }
}

/** Segments a whole buffer (files, the STT guard). */
export async function detectSpeech(
  engine: VadEngine,
  samples: Float32Array,
  sampleRate: number,
  options: SegmenterOptions,
  signal?: AbortSignal,
): Promise<SpeechSegment[]> {
  const segmenter = new VadSegmenter(engine, options, sampleRate);
  const events = [...(await segmenter.push(samples, signal)), ...(await segmenter.flush(signal))];
  return events
    .filter((e): e is Extract<VadEvent, { type: 'speech_end' }> => e.type === 'speech_end')
    .map((e) => ({ startSec: e.startSec, endSec: e.endSec }));
}
