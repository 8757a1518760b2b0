/**
 * Answer audio, played from a queue at the AudioContext's rate. It says when an item starts to
 * be heard, and on `clear` (the user spoke) stops at once and says how much of the item was
 * played: what the page truncates the assistant item to.
 */
interface Chunk {
  itemId: string;
  samples: Float32Array;
}

class Playback extends AudioWorkletProcessor {
  private queue: Chunk[] = [];
  private offset = 0;
  private readonly played = new Map<string, number>();

  constructor() {
    super();
    this.port.onmessage = (
      e: MessageEvent<{ type: 'audio'; itemId: string; samples: Float32Array } | { type: 'clear' }>,
    ) => {
      const m = e.data;
      if (m.type === 'audio') this.queue.push({ itemId: m.itemId, samples: m.samples });
      else {
        const itemId = this.queue[0]?.itemId;
        this.queue = [];
        this.offset = 0;
        this.port.postMessage({ type: 'cleared', itemId, playedMs: itemId ? this.playedMs(itemId) : 0 });
      }
    };
  }

  private playedMs(itemId: string): number {
    return Math.floor(((this.played.get(itemId) ?? 0) / sampleRate) * 1000);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0]?.[0];
    if (!out) return true;
    let i = 0;
    while (i < out.length && this.queue.length > 0) {
      const chunk = this.queue[0]!;
      if (this.offset === 0 && !this.played.has(chunk.itemId)) {
        this.played.set(chunk.itemId, 0);
        this.port.postMessage({ type: 'started', itemId: chunk.itemId });
      }
      const n = Math.min(out.length - i, chunk.samples.length - this.offset);
      out.set(chunk.samples.subarray(this.offset, this.offset + n), i);
      i += n;
      this.offset += n;
      this.played.set(chunk.itemId, (this.played.get(chunk.itemId) ?? 0) + n);
      if (this.offset === chunk.samples.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    out.fill(0, i);
    for (let c = 1; c < (outputs[0]?.length ?? 0); c++) outputs[0]![c]!.set(out);
    return true;
  }
}

registerProcessor('playback', Playback);
