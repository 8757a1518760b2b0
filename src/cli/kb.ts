import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VoiceError } from '../errors.js';
import { documentType, parseDocument } from '../rag/formats.js';
import { chunkingOf, openKnowledgeBase } from '../rag/open.js';
import { pdfText } from '../rag/pdf.js';
import type { KnowledgeDocument } from '../rag/types.js';
import { createContext, number, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.kb;

/** Files to add: those given, and under each folder those of a type the knowledge base reads. */
async function filesOf(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new VoiceError('file_not_found', `${path}: no such file or folder`);
    });
    if (!info.isDirectory()) out.push(path);
    else
      for (const entry of (await readdir(path, { recursive: true, withFileTypes: true })).sort((a, b) =>
        join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)),
      ))
        if (entry.isFile() && documentType(entry.name)) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { k: { type: 'string' }, json: { type: 'boolean' } }, usage);
  const [sub, ...args] = positionals;
  if (values.help || !sub) {
    process.stdout.write(
      `usage: ${usage}\n  add FILE|DIR...   index Markdown, text, HTML and PDF files (a file added again replaces its passages)\n  list              the documents, their ids and passages\n  search "QUESTION" the passages an answer to it would get (--k N, --json)\n  remove ID         forget a document\n`,
    );
    return sub || values.help ? 0 : 2;
  }
  const ctx = createContext(values);
  const kb = openKnowledgeBase(ctx.config);
  if (!kb) throw new VoiceError('kb_unavailable', 'the knowledge base is off (rag.engine: off)');
  try {
    switch (sub) {
      case 'add': {
        if (args.length === 0)
          throw new VoiceError('invalid_argument', `add needs files or folders (usage: ${usage})`);
        const { maxDocumentBytes } = ctx.config.rag;
        const docs: KnowledgeDocument[] = [];
        // Every file is read and cut first: one that fails leaves the knowledge base as it was.
        for (const file of await filesOf(args)) {
          const size = (await stat(file)).size;
          if (size > maxDocumentBytes)
            throw new VoiceError(
              'kb_document_too_large',
              `${file}: ${size} bytes, over the limit of ${maxDocumentBytes} (rag.maxDocumentBytes)`,
            );
          const bytes = await readFile(file).catch((err: Error) => {
            throw new VoiceError('kb_document_unreadable', `${file}: ${err.message}`);
          });
          docs.push(
            await parseDocument(bytes, file, {
              maxBytes: maxDocumentBytes,
              chunking: chunkingOf(ctx.config),
              pdfText,
            }),
          );
        }
        if (docs.length === 0)
          throw new VoiceError(
            'invalid_argument',
            `no Markdown, text, HTML or PDF file in ${args.join(', ')}`,
          );
        await kb.add(docs);
        for (const d of docs) process.stdout.write(`${d.id}  ${d.source}: ${d.chunks.length} passages\n`);
        return 0;
      }
      case 'list': {
        const docs = await kb.list();
        if (values.json) process.stdout.write(`${JSON.stringify(docs)}\n`);
        else if (docs.length === 0) process.stdout.write('the knowledge base is empty (voice kb add FILE)\n');
        else
          for (const d of docs)
            process.stdout.write(
              `${d.id}  ${String(d.chunks).padStart(5)} passages  ${new Date(d.addedAt).toISOString()}  ${d.source}\n`,
            );
        return 0;
      }
      case 'search': {
        const query = args.join(' ').trim();
        if (!query) throw new VoiceError('invalid_argument', `search needs a question (usage: ${usage})`);
        const k = number('k', values.k) ?? ctx.config.rag.k;
        const passages = await kb.search(query, { k });
        if (values.json) process.stdout.write(`${JSON.stringify(passages)}\n`);
        else
          for (const p of passages)
            process.stdout.write(
              `${p.score.toPrecision(3)}  ${p.chunkId}  ${p.source}${p.heading ? ` — ${p.heading}` : ''}\n  ${p.text.slice(0, 300)}${p.text.length > 300 ? '…' : ''}\n`,
            );
        return passages.length > 0 ? 0 : 1;
      }
      case 'remove': {
        if (args.length !== 1)
          throw new VoiceError('invalid_argument', `remove needs one document id (usage: ${usage})`);
        if (!(await kb.remove(args[0]!)))
          throw new VoiceError(
            'kb_document_not_found',
            `no document ${args[0]} (voice kb list shows the ids)`,
          );
        process.stdout.write(`removed ${args[0]}\n`);
        return 0;
      }
      default:
        throw new VoiceError('invalid_argument', `unknown kb command "${sub}" (usage: ${usage})`);
    }
  } finally {
    await kb.close();
  }
}
