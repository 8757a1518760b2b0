/** Synthesized audio of one sentence in one voice. */
export interface CachedAudio {
  samples: Float32Array;
  sampleRate: number;
}

/**
 * LRU cache of synthesized sentences, keyed by voice, speed and text: assistants repeat themselves
 * ("Bien sûr.", greetings, confirmations) and a hit skips synthesis entirely.
 */
export class SentenceCache {
  private readonly entries = new Map<string, CachedAudio>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity: number) {}

  static key(voice: string, speed: number, text: string): string {
    return `${voice}\u0000${speed}\u0000${text.trim().replace(/\s+/g, ' ')}`;
  }

  get(key: string): CachedAudio | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  set(key: string, audio: CachedAudio): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, audio);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
