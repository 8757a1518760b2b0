import ort from 'onnxruntime-node';
import { WhisperLogMel } from '../../audio/whisper-log-mel.js';
import { VoiceError, throwIfAborted } from '../../errors.js';
import { createOrtSession } from '../onnx.js';
import { SerialQueue } from '../serial.js';
import type { EngineInfo, EngineLoadOptions } from '../types.js';
import { TURN_SAMPLE_RATE, type TurnEngine, type TurnPrediction } from './types.js';

const WINDOW_SEC = 8;
const WINDOW = WINDOW_SEC * TURN_SAMPLE_RATE;
const MELS = 80;
const FRAMES = 800;

/**
 * Smart Turn v3 (pipecat-ai/smart-turn) through onnxruntime-node: a Whisper-encoder classifier
 * over the last 8 s of the turn, zero-padded at the front, as Whisper's normalised log-mel
 * ([1, 80, 800]); it outputs the probability that the turn is complete. Calls run one at a time
 * (one session, one thread).
 */
export class SmartTurn implements TurnEngine {
  private readonly logMel = new WhisperLogMel({ mels: MELS, frames: FRAMES, normalize: true });
  private readonly queue = new SerialQueue();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: EngineInfo,
  ) {}

  static async load(modelPath: string, modelId: string, options: EngineLoadOptions): Promise<SmartTurn> {
    throwIfAborted(options.signal);
    const { session, info } = await createOrtSession(modelPath, 'smart-turn', modelId, options);
    const input = session.inputNames[0];
    if (input !== 'input_features' || session.outputNames.length !== 1) {
      await session.release();
      throw new VoiceError(
        'engine_unavailable',
        `${modelPath} is not a Smart Turn v3 model (inputs ${session.inputNames.join(', ')}; expected input_features)`,
      );
    }
    return new SmartTurn(session, info);
  }

  /** The model's input for a turn: exposed for the reference test against transformers. */
  features(samples: Float32Array): Float32Array {
    return this.logMel.compute(lastWindow(samples));
  }

  predict(samples: Float32Array, signal?: AbortSignal): Promise<TurnPrediction> {
    return this.queue.run(async () => {
      throwIfAborted(signal);
      const t0 = performance.now();
      const features = this.features(samples);
      const t1 = performance.now();
      const out = await this.session.run({
        input_features: new ort.Tensor('float32', features, [1, MELS, FRAMES]),
      });
      const data = (out[this.session.outputNames[0]!] as ort.Tensor).data as Float32Array;
      const probability = data[0]!;
      if (!Number.isFinite(probability))
        throw new VoiceError('engine_failed', `smart-turn returned ${probability}`);
      return { probability, featuresMs: t1 - t0, inferenceMs: performance.now() - t1 };
    });
  }

  async close(): Promise<void> {
    await this.queue.drain();
    await this.session.release();
  }
}

/** The last 8 s, zero-padded at the front when shorter. */
function lastWindow(samples: Float32Array): Float32Array {
  if (samples.length === WINDOW) return samples;
  if (samples.length > WINDOW) return samples.subarray(samples.length - WINDOW);
  const out = new Float32Array(WINDOW);
  out.set(samples, WINDOW - samples.length);
  return out;
}
