import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKING } from './chunker.js';
import { parseDocument } from './formats.js';
import { pdfText } from './pdf.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/kb-pdf/${name}`, import.meta.url));
const options = { maxBytes: 1 << 20, chunking: DEFAULT_CHUNKING, pdfText };
const failure = async (p: Promise<unknown>) =>
  (await p.catch((e: unknown) => e)) as { code: string; message: string };

describe('PDF documents', () => {
  it("reads a PDF's text (printed by Chromium from HTML) into passages", async () => {
    const doc = await parseDocument(
      fixture('reglement-mediatheque.pdf'),
      'reglement-mediatheque.pdf',
      options,
    );
    const text = doc.chunks.map((c) => c.text).join(' ');
    expect(text).toContain('coûte 12 euros par an pour les adultes');
    expect(text).toContain('fermée le lundi');
  });

  it('a PDF without text (a scan) is refused as empty; a broken one as unreadable, naming the file', async () => {
    expect(await failure(parseDocument(fixture('scan-sans-texte.pdf'), 'scan.pdf', options))).toMatchObject({
      code: 'kb_document_empty',
      message: 'scan.pdf: no text to index',
    });
    const broken = await failure(parseDocument(Buffer.from('%PDF-1.7\nnot really'), 'casse.pdf', options));
    expect(broken.code).toBe('kb_document_unreadable');
    expect(broken.message).toMatch(/^casse\.pdf: /);
  });
});
