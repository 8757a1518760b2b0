import type { EngineInfo } from '../engines/types.js';
import type { VadEngine, VadStream } from '../engines/vad/types.js';

/**
 * A VAD whose speech probability per 512-sample frame is scripted, for orchestration tests of the
 * segmenter and sessions. `probabilityOf(frameIndex)` is called in stream order.
 */
export class FakeVad implements VadEngine {
  readonly info: EngineInfo = { engine: 'fake-vad', model: 'scripted', device: 'cpu', threads: 1, loadMs: 0 };
  frames = 0;

  constructor(private readonly probabilityOf: (frameIndex: number, frame: Float32Array) => number) {}

  /** Speech wherever the frame is loud: probability 1 when its mean |x| exceeds 0.05. */
  static energy(): FakeVad {
    return new FakeVad((_, frame) => {
      let sum = 0;
      for (const x of frame) sum += Math.abs(x);
      return sum / frame.length > 0.05 ? 1 : 0;
    });
  }

  createStream(): VadStream {
    let index = 0;
    return {
      process: (frame) => {
        this.frames++;
        return Promise.resolve(this.probabilityOf(index++, frame));
      },
      reset: () => {
        index = 0;
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
