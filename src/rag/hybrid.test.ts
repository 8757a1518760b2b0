import { describe, expect, it } from 'vitest';
import { fuse, VectorTable } from './hybrid.js';

describe('hybrid search', () => {
  it('fuse scales each ranking to [0, 1] and weights them; a passage found by one only gets 0 from the other', () => {
    const lexical = [
      { id: 1, score: 10 },
      { id: 2, score: 5 },
      { id: 3, score: 0 },
    ];
    const semantic = [
      { id: 3, score: 0.9 },
      { id: 4, score: 0.5 },
    ];
    expect(fuse(lexical, semantic, 0, 3).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(fuse(lexical, semantic, 1, 2).map((s) => s.id)).toEqual([3, 4]);
    const half = fuse(lexical, semantic, 0.5, 4);
    expect(half).toEqual([
      { id: 1, score: 0.5 },
      { id: 3, score: 0.5 },
      { id: 2, score: 0.25 },
      { id: 4, score: 0 },
    ]);
    expect(fuse([], semantic, 0.5, 1)).toEqual([{ id: 3, score: 0.5 }]);
  });

  it('VectorTable.nearest: the n rows of highest dot product, best first; a query of another length finds none', () => {
    const table = new VectorTable(new Int32Array([7, 8, 9]), 2, new Float32Array([1, 0, 0, 1, 0.6, 0.8]));
    expect(table.nearest(new Float32Array([0, 1]), 2).map((s) => s.id)).toEqual([8, 9]);
    expect(table.nearest(new Float32Array([1, 0]), 1)).toEqual([{ id: 7, score: 1 }]);
    expect(table.nearest(new Float32Array([1, 0, 0]), 2)).toEqual([]);
  });
});
