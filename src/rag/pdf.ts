import { VoiceError } from '../errors.js';

/** Pages read at most: a PDF with more is refused (a hostile file, or not a document to index). */
export const MAX_PDF_PAGES = 2000;

/**
 * The text of a PDF (pdfjs-dist, no rendering, no eval, no fonts loaded), page after page, one
 * line per text line. A PDF of scanned images has no text: the caller refuses it as empty.
 * Runs in the parse worker for uploads (see parse-off-loop.ts).
 */
export async function pdfText(bytes: Uint8Array, source: string): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc;
  try {
    doc = await getDocument({
      data: new Uint8Array(bytes), // pdfjs takes over (detaches) the buffer it is given
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      stopAtErrors: true,
      verbosity: 0,
    }).promise;
  } catch (err) {
    const why = (err as Error).name === 'PasswordException' ? 'the PDF is encrypted' : (err as Error).message;
    throw new VoiceError('kb_document_unreadable', `${source}: ${why}`);
  }
  try {
    if (doc.numPages > MAX_PDF_PAGES)
      throw new VoiceError(
        'kb_document_too_large',
        `${source}: ${doc.numPages} pages, over ${MAX_PDF_PAGES}`,
      );
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) if ('str' in item) text += item.str + (item.hasEOL ? '\n' : '');
      pages.push(text.trim());
      page.cleanup();
    }
    return pages.join('\n\n');
  } finally {
    await doc.destroy();
  }
}
