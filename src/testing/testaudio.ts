import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared real-speech corpus (../shared/testaudio), located like MODELS_DIR. */
export const TESTAUDIO_DIR = resolve(
  process.env.TESTAUDIO_DIR ?? join(process.env.MODELS_DIR ?? '../shared/models', '..', 'testaudio'),
);
export const MODELS_DIR = resolve(process.env.MODELS_DIR ?? '../shared/models');

export interface TestClip {
  file: string;
  path: string;
  language: string;
  transcript: string;
}

export function manifest(): TestClip[] {
  const text = readFileSync(join(TESTAUDIO_DIR, 'manifest.tsv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, language, transcript] = line.split('\t') as [string, string, string];
      return { file, path: join(TESTAUDIO_DIR, file), language, transcript };
    });
}

/** The scripted French commands (jlo_24..26 are unscripted speech, marked <unknown>). */
export function frenchCommands(): TestClip[] {
  return manifest().filter((c) => c.file.startsWith('fr/s2p_jlo/') && c.transcript !== '<unknown>');
}

export function haveSharedAssets(): boolean {
  return existsSync(join(MODELS_DIR, 'silero_vad.onnx')) && existsSync(join(TESTAUDIO_DIR, 'manifest.tsv'));
}
