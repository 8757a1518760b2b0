/**
 * Answer audio, played from a queue at the AudioContext's rate. It says when an item starts to
 * be heard; `pause` silences it at once, keeping the queue (the user may be starting to speak),
 * `resume` goes on; `clear` (the user spoke) drops the queue and says how much of the item was
 * played: what the page truncates the assistant item to. `paused` and `cleared` carry the audio
 * clock time at which the output went silent.
 */
interface Chunk {
  itemId: string;
  samples: Float32Array;
}

type Command =
  { type: 'audio'; itemId: string; samples: Float32Array } | { type: 'pause' | 'resume' | 'clear' };

class Playback extends AudioWorkletProcessor {
  private queue: Chunk[] = [];
  private offset = 0;
  private paused = false;
  private readonly played = new Map<string, number>();

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<Command>) => {
      const m = e.data;
      if (m.type === 'audio') this.queue.push({ itemId: m.itemId, samples: m.samples });
      else if (m.type === 'pause') {
        if (!this.paused && this.queue.length > 0)
          this.port.postMessage({ type: 'paused', time: currentTime });
        this.paused = true;
      } else if (m.type === 'resume') this.paused = false;
      else {
        const itemId = this.queue[0]?.itemId;
        const audible = !this.paused && this.queue.length > 0;
        this.queue = [];
        this.offset = 0;
        this.paused = false;
        this.port.postMessage({
          type: 'cleared',
          itemId,
          playedMs: itemId ? this.playedMs(itemId) : 0,
          ...(audible ? { time: currentTime } : {}),
        });
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
    while (i < out.length && this.queue.length > 0 && !this.paused) {
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
