import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The file a worker thread runs: the compiled `.js` next to the caller in `dist/`. When the caller
 * runs from its TypeScript source (tests, `tsx`), Node cannot start a `.ts` worker, so this is the
 * same module in `dist/` (which `npm run build`, and the tests' global setup, write).
 */
export function workerUrl(callerUrl: string, relativeJs: string): URL {
  const beside = new URL(relativeJs, callerUrl);
  if (!callerUrl.endsWith('.ts')) return beside;
  const path = fileURLToPath(beside);
  const at = path.lastIndexOf('/src/');
  const built = at < 0 ? path : `${path.slice(0, at)}/dist/${path.slice(at + 5)}`;
  if (!existsSync(built)) throw new Error(`worker ${built} is not built: run npm run build`);
  return pathToFileURL(built);
}
