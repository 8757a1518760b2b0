import { describe, expect, it } from 'vitest';
import { chunkMarkdown, sentences } from './chunker.js';

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
const sentence = (i: number) => `La phrase numéro ${i} parle de la laverie et de ses horaires du soir.`; // 13 words

describe('chunkMarkdown', () => {
  it('keeps the heading path of each passage and the text without Markdown marks', () => {
    const chunks = chunkMarkdown(
      '# Guide\n\nIntro **importante**.\n\n## Accès\n\n- Le [code](http://x) est `4821`.\n',
    );
    expect(chunks).toEqual([{ heading: 'Guide', text: 'Intro importante. Accès. Le code est 4821.' }]);
  });

  it('cuts long sections at sentences, within the word limits, each passage starting with the end of the last', () => {
    const text = `## Laverie\n\n${Array.from({ length: 60 }, (_, i) => sentence(i)).join(' ')}`;
    const chunks = chunkMarkdown(text, { targetWords: 100, maxWords: 150, overlapWords: 30 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.heading).toBe('Laverie');
      expect(words(c.text)).toBeLessThanOrEqual(150);
    }
    for (let i = 1; i < chunks.length; i++) {
      const previous = sentences(chunks[i - 1]!.text);
      expect(chunks[i]!.text.startsWith(previous.at(-2)!)).toBe(true); // 30 words: two sentences
    }
    // Every sentence is in some passage.
    for (let i = 0; i < 60; i++) expect(chunks.some((c) => c.text.includes(sentence(i)))).toBe(true);
  });

  it('sections are not mixed unless a short one joins the next under the same top heading', () => {
    const long = Array.from({ length: 20 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkMarkdown(`# A\n\n## Court\n\nDeux mots.\n\n## Long\n\n${long}\n\n# B\n\n${long}`, {
      targetWords: 400,
      maxWords: 500,
      overlapWords: 0,
    });
    expect(chunks.map((c) => c.heading)).toEqual(['A › Court', 'B']);
    expect(chunks[0]!.text.startsWith('Deux mots. Long. La phrase numéro 0')).toBe(true);
  });

  it('an empty document has no passages', () => {
    expect(chunkMarkdown('\n\n# Titre seul\n\n')).toEqual([]);
  });
});
