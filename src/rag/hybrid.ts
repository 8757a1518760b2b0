/** A passage's row id and its score in one ranking (higher is better). */
export interface Scored {
  id: number;
  score: number;
}

/**
 * Relative score fusion (Weaviate's hybrid default): each ranking's scores are scaled to [0, 1]
 * (its best 1, its worst 0; a single result 1), then summed with `weight` for the semantic one
 * and `1 - weight` for the lexical one; a passage found by one ranking only gets 0 from the other.
 */
export function fuse(lexical: Scored[], semantic: Scored[], weight: number, k: number): Scored[] {
  const total = new Map<number, number>();
  const add = (list: Scored[], share: number) => {
    if (list.length === 0 || share === 0) return;
    const scores = list.map((s) => s.score);
    const max = Math.max(...scores);
    const min = Math.min(...scores);
    for (const s of list) {
      const scaled = max === min ? 1 : (s.score - min) / (max - min);
      total.set(s.id, (total.get(s.id) ?? 0) + share * scaled);
    }
  };
  add(lexical, 1 - weight);
  add(semantic, weight);
  return [...total]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

/** Unit vectors of passages, searched by dot product (cosine), all of them: exact, no index. */
export class VectorTable {
  constructor(
    readonly ids: Int32Array,
    readonly dims: number,
    /** ids.length vectors of `dims` values, one after the other. */
    readonly data: Float32Array,
  ) {}

  /** The `n` passages nearest to `query` (a unit vector of the same length). */
  nearest(query: Float32Array, n: number): Scored[] {
    if (query.length !== this.dims) return [];
    const best: Scored[] = [];
    for (let row = 0; row < this.ids.length; row++) {
      let dot = 0;
      const at = row * this.dims;
      for (let i = 0; i < this.dims; i++) dot += query[i]! * this.data[at + i]!;
      if (best.length < n || dot > best[best.length - 1]!.score) {
        best.push({ id: this.ids[row]!, score: dot });
        best.sort((a, b) => b.score - a.score);
        if (best.length > n) best.pop();
      }
    }
    return best;
  }
}
