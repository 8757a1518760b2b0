import ort from 'onnxruntime-node';
import { VoiceError, throwIfAborted } from '../../errors.js';
import { createOrtSession } from '../onnx.js';
import type { EngineInfo, EngineLoadOptions } from '../types.js';
import { VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, type VadEngine, type VadStream } from './types.js';

const CONTEXT_SAMPLES = 64;
const STATE_SIZE = 2 * 1 * 128;

/**
 * Silero VAD v5 through onnxruntime-node. The v5 graph takes the previous 64 samples as context
 * ahead of each 512-sample frame, a recurrent state of shape [2, 1, 128] and the rate as int64.
 */
export class SileroVad implements VadEngine {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: EngineInfo,
  ) {}

  static async load(modelPath: string, modelId: string, options: EngineLoadOptions): Promise<SileroVad> {
    throwIfAborted(options.signal);
    const { session, info } = await createOrtSession(modelPath, 'silero-vad', modelId, options);
    return new SileroVad(session, info);
  }

  createStream(): VadStream {
    return new SileroStream(this.session);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

class SileroStream implements VadStream {
  private state = new Float32Array(STATE_SIZE);
  private context = new Float32Array(CONTEXT_SAMPLES);
  private readonly sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);

  constructor(private readonly session: ort.InferenceSession) {}

  async process(frame: Float32Array, signal?: AbortSignal): Promise<number> {
    if (frame.length !== VAD_FRAME_SAMPLES)
      throw new VoiceError(
        'invalid_argument',
        `VAD frames are ${VAD_FRAME_SAMPLES} samples, got ${frame.length}`,
      );
    throwIfAborted(signal);
    const input = new Float32Array(CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
    input.set(this.context);
    input.set(frame, CONTEXT_SAMPLES);
    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [1, input.length]),
      state: new ort.Tensor('float32', this.state, [2, 1, 128]),
      sr: this.sr,
    });
    this.state = Float32Array.from((out.stateN as ort.Tensor).data as Float32Array);
    this.context = input.slice(input.length - CONTEXT_SAMPLES);
    return ((out.output as ort.Tensor).data as Float32Array)[0]!;
  }

  reset(): void {
    this.state = new Float32Array(STATE_SIZE);
    this.context = new Float32Array(CONTEXT_SAMPLES);
  }
}
