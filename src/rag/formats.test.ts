import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKING } from './chunker.js';
import { htmlToMarkdown, parseDocument } from './formats.js';

const options = { maxBytes: 1000, chunking: DEFAULT_CHUNKING };
const code = async (p: Promise<unknown>) =>
  (await p.catch((e: unknown) => e)) as { code: string; message: string };

describe('parseDocument', () => {
  it('reads HTML: headings kept, scripts, styles and tags gone, entities decoded', async () => {
    const html =
      '<html><head><style>p{}</style><script>alert(1)</script></head><body><h1>Laverie</h1><p>Ouverte de 7&nbsp;h &agrave; 22 h &amp; le dimanche.</p><p>Un cycle co&#251;te 3&#x20AC;.</p></body></html>';
    expect(htmlToMarkdown(html)).toContain('# Laverie');
    const doc = await parseDocument(Buffer.from(html), 'laverie.html', options);
    expect(doc.chunks).toEqual([
      { heading: 'Laverie', text: 'Ouverte de 7 h à 22 h & le dimanche. Un cycle coûte 3€.' },
    ]);
  });

  it('plain text: a line starting with # is text, not a heading', async () => {
    const doc = await parseDocument(Buffer.from('#1 des ventes.\nDeuxième ligne.'), 'notes.txt', options);
    expect(doc.chunks).toEqual([{ heading: '', text: '#1 des ventes. Deuxième ligne.' }]);
  });

  it('refuses what it cannot read with a code naming the file', async () => {
    expect(await code(parseDocument(Buffer.from('x'), 'photo.jpg', options))).toMatchObject({
      code: 'kb_unsupported_type',
      message: expect.stringContaining('photo.jpg') as string,
    });
    expect(
      await code(parseDocument(Buffer.from('x'), 'a.md', { ...options, contentType: 'image/png' })),
    ).toMatchObject({
      code: 'kb_unsupported_type',
    });
    expect(await code(parseDocument(Buffer.alloc(2000, 65), 'big.md', options))).toMatchObject({
      code: 'kb_document_too_large',
      message: expect.stringContaining('big.md') as string,
    });
    expect(
      await code(parseDocument(Buffer.from([0xff, 0xfe, 0x00, 0xd8]), 'bin.txt', options)),
    ).toMatchObject({
      code: 'kb_document_unreadable',
      message: expect.stringContaining('bin.txt') as string,
    });
    expect(await code(parseDocument(Buffer.from('\n\n# Titre\n'), 'vide.md', options))).toMatchObject({
      code: 'kb_document_empty',
    });
  });
});
