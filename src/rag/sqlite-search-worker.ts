import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteSearcher, type SearchReply, type SearchRequest } from './sqlite-search.js';

/**
 * Worker thread: searches of the embedded knowledge base on a read-only connection of its own
 * (WAL lets it read while the service writes), so that a search over a large index (tens of ms at
 * 100,000 passages) never stalls the event loop that paces live audio.
 */
const db = new Database((workerData as { path: string }).path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
const searcher = new SqliteSearcher(db);

parentPort?.on('message', (req: SearchRequest) => {
  let reply: SearchReply;
  try {
    reply = { id: req.id, hits: searcher.search(req) };
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
