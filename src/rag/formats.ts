import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { VoiceError } from '../errors.js';
import { chunkMarkdown, type ChunkOptions } from './chunker.js';
import type { KnowledgeDocument } from './types.js';

export type DocumentType = 'markdown' | 'text' | 'html' | 'pdf';

const BY_EXTENSION: Record<string, DocumentType> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.text': 'text',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
};

const BY_CONTENT_TYPE: Record<string, DocumentType> = {
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
  'text/html': 'html',
  'application/pdf': 'pdf',
};

/** The type of a document from its content type, else its file name; undefined: not one we read. */
export function documentType(name: string, contentType?: string): DocumentType | undefined {
  const mime = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mime && mime !== 'application/octet-stream') return BY_CONTENT_TYPE[mime];
  return BY_EXTENSION[extname(name).toLowerCase()];
}

/** A document's id: from its source name, so that adding a file of the same name replaces it. */
export function documentId(source: string): string {
  return `doc_${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
}

/** Named entities French pages use (others are rare: numeric references are decoded too). */
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  laquo: '«',
  raquo: '»',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  hellip: '…',
  ndash: '–',
  mdash: '—',
  euro: '€',
  deg: '°',
  copy: '©',
  reg: '®',
  middot: '·',
  oelig: 'œ',
  OElig: 'Œ',
  aelig: 'æ',
  AElig: 'Æ',
  szlig: 'ß',
};
// Letters with a diacritic: &eacute; &Agrave; &ccedil; &ouml; …
const ACCENTS: Record<string, string> = {
  acute: '\u0301',
  grave: '\u0300',
  circ: '\u0302',
  uml: '\u0308',
  cedil: '\u0327',
  tilde: '\u0303',
  ring: '\u030a',
};

function namedEntity(name: string): string | undefined {
  if (ENTITIES[name] ?? ENTITIES[name.toLowerCase()]) return ENTITIES[name] ?? ENTITIES[name.toLowerCase()];
  const m = /^([a-zA-Z])(acute|grave|circ|uml|cedil|tilde|ring)$/.exec(name);
  return m ? `${m[1]}${ACCENTS[m[2]!]}`.normalize('NFC') : undefined;
}

/** HTML to the Markdown the chunker reads: headings kept, blocks as paragraphs, tags and scripts gone. */
export function htmlToMarkdown(html: string): string {
  return html
    .replace(/<(script|style|noscript|template|svg)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_, n: string, inner: string) => {
      const text = inner
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      return `\n\n${'#'.repeat(Number(n))} ${text}\n\n`;
    })
    .replace(/<(br|hr)\b[^>]*>/gi, '\n\n')
    .replace(
      /<\/?(p|div|section|article|li|ul|ol|tr|table|blockquote|pre|header|footer|main|nav|dd|dt)\b[^>]*>/gi,
      '\n\n',
    )
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return namedEntity(e) ?? m;
    })
    .replace(/[ \t]+/g, ' ');
}

/** Strict UTF-8 (a binary file given as text is refused, not indexed as garbage). */
function utf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new VoiceError('kb_document_unreadable', `${source}: not UTF-8 text`);
  }
}

/**
 * A file's bytes as a document of the knowledge base: decoded, cut into passages. `pdfText`
 * extracts a PDF's text (a worker: see pdf.ts). Throws a coded error naming the file.
 */
export async function parseDocument(
  bytes: Uint8Array,
  name: string,
  options: {
    contentType?: string | undefined;
    maxBytes: number;
    chunking: ChunkOptions;
    pdfText?: (bytes: Uint8Array, source: string) => Promise<string>;
  },
): Promise<KnowledgeDocument> {
  const source = basename(name);
  const type = documentType(source, options.contentType);
  if (!type)
    throw new VoiceError(
      'kb_unsupported_type',
      `${source}: ${options.contentType ? `content type ${options.contentType}` : 'this file type'} is not read (Markdown, text, HTML, PDF)`,
    );
  if (bytes.length > options.maxBytes)
    throw new VoiceError(
      'kb_document_too_large',
      `${source}: ${bytes.length} bytes, over the limit of ${options.maxBytes} (rag.maxDocumentBytes)`,
    );
  let markdown: string;
  if (type === 'pdf') {
    if (!options.pdfText) throw new VoiceError('kb_unsupported_type', `${source}: PDF is not read here`);
    markdown = notHeadings(await options.pdfText(bytes, source));
  } else {
    const text = utf8(bytes, source);
    markdown = type === 'html' ? htmlToMarkdown(text) : type === 'text' ? notHeadings(text) : text;
  }
  const chunks = chunkMarkdown(markdown, options.chunking);
  if (chunks.length === 0) throw new VoiceError('kb_document_empty', `${source}: no text to index`);
  return {
    id: documentId(source),
    source,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    chunks,
  };
}

/** Plain text read as Markdown: a line starting with `#` is text, not a heading. */
const notHeadings = (text: string) => text.replace(/^#/gm, ' #');
