import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const ENGINES = ['whisper', 'silero-vad', 'piper', 'llama', 'smart-turn'] as const;

const fileSchema = z.strictObject({
  name: z.string().regex(/^[\w.-]+$/, 'a plain file name'),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  url: z.url(),
});

const modelSchema = z.strictObject({
  id: z.string().regex(/^[\w.-]+$/),
  engine: z.enum(ENGINES),
  description: z.string(),
  licence: z.string(),
  /** Where the licence and provenance are stated. */
  source: z.url(),
  files: z.array(fileSchema).min(1),
});

export const manifestSchema = z.strictObject({
  $comment: z.string().optional(),
  models: z.array(modelSchema),
});

export type ModelFile = z.infer<typeof fileSchema>;
export type ModelEntry = z.infer<typeof modelSchema>;
export type Manifest = z.infer<typeof manifestSchema>;

export const DEFAULT_MANIFEST = fileURLToPath(new URL('../../models/manifest.json', import.meta.url));

/** Reads and validates a manifest; a model's id must be the stem of its first file. */
export function readManifest(path = DEFAULT_MANIFEST): Manifest {
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const seen = new Set<string>();
  for (const model of manifest.models) {
    if (seen.has(model.id)) throw new Error(`${path}: model id ${model.id} appears twice`);
    seen.add(model.id);
    const stem = model.files[0]!.name.replace(/\.(bin|onnx|gguf)$/, '');
    if (stem !== model.id) throw new Error(`${path}: model id ${model.id} is not the stem of ${model.files[0]!.name}`);
  }
  return manifest;
}
