// Builds the voice page (web/) into dist/web: the TypeScript bundled by esbuild, the HTML and CSS copied.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const out = new URL('../dist/web/', import.meta.url);
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['web/main.ts', 'web/capture-worklet.ts', 'web/playback-worklet.ts'],
  outdir: 'dist/web',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css'])
  copyFileSync(new URL(`../web/${file}`, import.meta.url), new URL(file, out));
