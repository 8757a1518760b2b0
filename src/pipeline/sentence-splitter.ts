/**
 * Cuts a streamed LLM answer into chunks for TTS: whole sentences, plus an early clause as the first
 * chunk so that speech starts sooner. French first, English too.
 *
 * Every decision about a position needs only a bounded look-ahead (the punctuation run, closing
 * quotes, whitespace and the first character of the next word); when that look-ahead has not arrived
 * yet the splitter waits. So the output is the same however the stream is sliced into deltas.
 */

export interface SentenceSplitterOptions {
  /** The first chunk may be a clause (cut at , ; : or a dash) once it holds at least this many characters (0 disables). Default 40. */
  firstClauseMinChars?: number;
  /** A chunk longer than this is cut at the last clause boundary or space (safety for run-on text). Default 300. */
  maxChars?: number;
}

/** Where the chunk ends (exclusive index), not a boundary, or not decidable until more text arrives. */
type Verdict = number | 'no' | 'wait';

const TERMINAL = /[.!?…]/;
const CLOSER = /[»"”’')\]*_]/;
const CLAUSE = /[,;:]/;
const DASH = /[—–]/;
const SPACE = /\s/;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{N}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Text before a '.' that makes it an abbreviation, never a sentence end; an initial ("J. Dupont") but not "I". */
const ABBREVIATION =
  /(?:^|[^\p{L}\p{N}])(?:M|MM|Mmes?|Mlles?|Dr|Pr|St|Mrs?|Ms|[Cc]f|[Aa]v|[Ee]nv|vs|[Ee]\.g|[Ii]\.e|[Pp]\.\s?ex|(?!I)\p{Lu})$/u;
/** Before a '.' followed by a number: "etc. 12 pages", "No. 5", "p. 12". */
const BEFORE_NUMBER = /(?:^|[^\p{L}\p{N}])(?:etc|No|pp?)$/u;
/** A numbered list marker ("1. Mélanger", "## 2. Cuisson") at the start of a chunk. */
const LIST_NUMBER = /^(?:#+\s*)?\d{1,3}$/;
/** A line starting with one of these ends the chunk before it: list items and Markdown headers. */
const LINE_MARKER = /^(?:[-*•+]|\d{1,3}[.)]|#{1,6})[ \t]/;
const LINE_MARKER_PREFIX = /^(?:[-*•+]|\d{1,3}[.)]?|#{1,6})$/;
const CLAUSE_BREAK = /[,;:](?=\s)|\s[—–](?=\s)/g;

export class SentenceSplitter {
  private readonly firstClauseMinChars: number;
  private readonly maxChars: number;
  /** Text received and not yet emitted, without leading whitespace. */
  private buf = '';
  private first = true;

  constructor(options: SentenceSplitterOptions = {}) {
    this.firstClauseMinChars = options.firstClauseMinChars ?? 40;
    this.maxChars = Math.max(1, options.maxChars ?? 300);
  }

  /** Feeds a delta; returns the chunks it completed (trimmed, non-empty, in order). */
  push(delta: string): string[] {
    const out: string[] = [];
    this.buf += delta;
    for (;;) {
      this.buf = this.buf.trimStart();
      const end = this.findCut();
      if (end === undefined) return out;
      this.emit(this.buf.slice(0, end), out);
      this.buf = this.buf.slice(end);
    }
  }

  /** End of stream: returns what remains (0 or 1 chunk, trimmed; dropped when it has no letter or digit). */
  flush(): string[] {
    const out: string[] = [];
    this.emit(this.buf, out);
    // Ready for the next stream, whose first chunk may again be a clause.
    this.buf = '';
    this.first = true;
    return out;
  }

  private emit(raw: string, out: string[]): void {
    const chunk = raw.replace(/\s+/g, ' ').trim();
    // Nothing to say in "...", "**" or "---".
    if (!LETTER_OR_DIGIT.test(chunk)) return;
    out.push(chunk);
    this.first = false;
  }

  private findCut(): number | undefined {
    const s = this.buf;
    let len = 0; // length of s[0..i] once whitespace is collapsed
    for (let i = 0; i < s.length; i++) {
      if (!SPACE.test(s.charAt(i))) len += SPACE.test(s.charAt(i - 1)) ? 2 : 1;
      if (len > this.maxChars) return this.overflowCut(i);
      const verdict = this.verdictAt(i, len);
      if (verdict === 'wait') return undefined;
      if (verdict !== 'no') return verdict;
    }
    return undefined;
  }

  private verdictAt(i: number, len: number): Verdict {
    const s = this.buf;
    const c = s.charAt(i);
    if (TERMINAL.test(c) && !TERMINAL.test(s.charAt(i - 1))) return this.sentenceEnd(i);
    if (c === '\n') return this.lineBreak(i);
    const clause = CLAUSE.test(c) || (DASH.test(c) && SPACE.test(s.charAt(i - 1)));
    if (clause && this.first && this.firstClauseMinChars > 0 && len >= this.firstClauseMinChars) {
      if (i + 1 === s.length) return 'wait';
      // "3,5" and "21:30" are not clause boundaries.
      return SPACE.test(s.charAt(i + 1)) ? i + 1 : 'no';
    }
    return 'no';
  }

  /** `i` starts a run of terminal punctuation ("." "?!" "..." "…"). */
  private sentenceEnd(i: number): Verdict {
    const s = this.buf;
    let end = i;
    while (TERMINAL.test(s.charAt(end))) end++;
    const run = s.slice(i, end);
    let closed = false;
    let next: number;
    for (;;) {
      while (CLOSER.test(s.charAt(end))) {
        end++;
        closed = true;
      }
      next = end;
      while (SPACE.test(s.charAt(next))) next++;
      // French spacing: « Bonjour ! »
      if (s.charAt(next) !== '»') break;
      end = next + 1;
      closed = true;
    }
    // More dots, a closing quote or the next word may still come.
    if (next === s.length) return 'wait';
    // Glued to what follows: "3.5", "exemple.fr".
    if (next === end) return 'no';
    const following = s.charAt(next);
    // A sentence does not start lowercase: « Bonjour ! » dit-il, "Attendez... je regarde", "etc. et".
    if (LOWER.test(following)) return 'no';
    if (run === '.' && !closed) {
      const before = s.slice(0, i);
      if (ABBREVIATION.test(before) || LIST_NUMBER.test(before)) return 'no';
      if (DIGIT.test(following) && BEFORE_NUMBER.test(before)) return 'no';
    }
    return end;
  }

  /** A blank line, or a line starting a list item or header, ends the chunk at `i` (a '\n'). */
  private lineBreak(i: number): Verdict {
    const s = this.buf;
    let j = i + 1;
    while (/[^\S\n]/.test(s.charAt(j))) j++;
    if (j === s.length) return 'wait';
    if (s.charAt(j) === '\n') return i;
    const line = s.slice(j);
    if (LINE_MARKER.test(line)) return i;
    return LINE_MARKER_PREFIX.test(line) ? 'wait' : 'no';
  }

  /** s[i] would make the chunk longer than maxChars: cut before it, at a late clause break or the last space. */
  private overflowCut(i: number): number {
    const head = this.buf.slice(0, i);
    let clause = 0;
    for (const m of head.matchAll(CLAUSE_BREAK)) clause = m.index + m[0].length;
    if (clause > i / 2) return clause;
    const space = head.search(/\s\S*$/);
    return space > 0 ? space : i;
  }
}
