/**
 * Cuts a document's text into passages of about `targetWords` (never more than `maxWords`, a
 * sentence longer than that excepted), along its headings and then its sentences, each passage
 * starting with the last sentences of the one before (`overlapWords`) so that a fact cut at a
 * boundary is still whole in one of them. Markdown headings (`#`…) give each passage its heading
 * path; plain text is one section cut into paragraphs and sentences.
 */
export interface ChunkOptions {
  targetWords: number;
  maxWords: number;
  overlapWords: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { targetWords: 200, maxWords: 300, overlapWords: 40 };

export interface Chunk {
  heading: string;
  text: string;
}

interface Section {
  heading: string;
  paragraphs: string[];
}

const wordCount = (s: string) => (s.match(/\S+/g) ?? []).length;

/** Sentences of a paragraph: cut after . ! ? … followed by a space and a capital, digit or quote. */
export function sentences(paragraph: string): string[] {
  return paragraph
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?…])\s+(?=[\p{Lu}\p{N}«"“(])/u)
    .filter((s) => s !== '');
}

function sectionsOf(markdown: string): Section[] {
  const sections: Section[] = [];
  const path: string[] = [];
  let current: Section = { heading: '', paragraphs: [] };
  let paragraph: string[] = [];
  const endParagraph = () => {
    const text = paragraph.join(' ').trim();
    if (text) current.paragraphs.push(text);
    paragraph = [];
  };
  for (const line of markdown.split(/\r?\n/)) {
    const heading = /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      endParagraph();
      if (current.paragraphs.length > 0) sections.push(current);
      path.length = heading[1]!.length - 1;
      path[heading[1]!.length - 1] = heading[2]!;
      current = { heading: path.filter(Boolean).join(' › '), paragraphs: [] };
    } else if (line.trim() === '' || /^(```|---+$|\*\*\*+$)/.test(line.trim())) endParagraph();
    else paragraph.push(line.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '').replace(/^>\s?/, ''));
  }
  endParagraph();
  if (current.paragraphs.length > 0) sections.push(current);
  return sections;
}

/** Markdown emphasis, links and code marks removed: what is read, not how it is written. */
function plain(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|\*|_|`)(?=\S)([^*_`]*?\S)\1/g, '$2')
    .replace(/\s+/g, ' ')
    .trim();
}

export function chunkMarkdown(markdown: string, options: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sectionsOf(markdown)) {
    const units = section.paragraphs.flatMap((p) => sentences(plain(p)));
    let current: string[] = [];
    let words = 0;
    let fresh = 0; // words of `current` that are not overlap
    const flush = () => {
      if (fresh > 0) chunks.push({ heading: section.heading, text: current.join(' ') });
      // The next passage starts with the last sentences of this one, up to overlapWords.
      const overlap: string[] = [];
      let n = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const w = wordCount(current[i]!);
        if (n + w > options.overlapWords) break;
        overlap.unshift(current[i]!);
        n += w;
      }
      current = overlap;
      words = n;
      fresh = 0;
    };
    for (const sentence of units) {
      const w = wordCount(sentence);
      if (words + w > options.maxWords && fresh > 0) flush();
      else if (words >= options.targetWords) flush();
      current.push(sentence);
      words += w;
      fresh += w;
    }
    flush();
  }
  return mergeSmall(chunks, options);
}

/** A short section joins the next one of the same top heading when both fit in one passage. */
function mergeSmall(chunks: Chunk[], options: ChunkOptions): Chunk[] {
  const out: Chunk[] = [];
  const top = (h: string) => h.split(' › ')[0];
  for (const c of chunks) {
    const last = out.at(-1);
    if (
      last &&
      top(last.heading) === top(c.heading) &&
      wordCount(last.text) < options.targetWords / 2 &&
      wordCount(last.text) + wordCount(c.text) <= options.maxWords
    )
      out[out.length - 1] = {
        heading: last.heading,
        text: `${last.text} ${c.heading !== last.heading ? `${c.heading.split(' › ').at(-1)}. ` : ''}${c.text}`,
      };
    else out.push(c);
  }
  return out;
}
