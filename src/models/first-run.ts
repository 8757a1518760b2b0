import type { Config } from '../config.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Readiness, Stage } from '../runtime/readiness.js';
import type { ModelManager, Progress } from './manager.js';

/** The models the configured engines load, by the stage that needs them. */
export function requiredModels(config: Config, models: ModelManager): { id: string; stage: Stage }[] {
  const out: { id: string; stage: Stage }[] = [
    { id: config.vad.model, stage: 'vad' },
    { id: config.stt.model, stage: 'stt' },
    { id: config.turns.model, stage: 'turn' },
  ];
  // `auto` falls back to the embedded llama.cpp when Ollama does not answer: its GGUF is needed.
  if (config.llm.engine === 'llamacpp' || config.llm.engine === 'auto') out.push({ id: config.llm.model, stage: 'llm' });
  const voice = config.tts.voice;
  if (voice !== 'auto' && !voice.startsWith('espeak:')) out.push({ id: voice, stage: 'tts' });
  return out.filter(({ id }) => models.manifest.models.some((m) => m.id === id));
}

/** The required models that are not present (missing or corrupt). */
export async function missingModels(config: Config, models: ModelManager): Promise<{ id: string; stage: Stage }[]> {
  const missing = [];
  for (const m of requiredModels(config, models))
    if ((await models.status(m.id)).state !== 'present') missing.push(m);
  return missing;
}

/** Prints download progress: a bar redrawn in place on a terminal, a log line every quarter otherwise. */
export function progressReporter(logger: Logger, tty = process.stderr.isTTY === true): (p: Progress) => void {
  const logged = new Map<string, number>();
  return (p) => {
    const share = p.total > 0 ? p.done / p.total : 0;
    if (tty) {
      const width = 30;
      const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
      process.stderr.write(
        `\r${p.file.padEnd(36).slice(0, 36)} [${bar}] ${(share * 100).toFixed(0).padStart(3)} % ${(p.bytesPerSec / 1e6).toFixed(1)} MB/s${share >= 1 ? '\n' : ''}`,
      );
      return;
    }
    const quarter = Math.floor(share * 4);
    if ((logged.get(p.file) ?? -1) >= quarter) return;
    logged.set(p.file, quarter);
    logger.info({ file: p.file, percent: Math.round(share * 100), bytes: p.done }, 'downloading a model');
  };
}

/**
 * Downloads the required models that are missing (first run), one after another, sha256-checked
 * and resumable. A failure does not stop the others: it is returned with the stage it leaves
 * without its model, so /ready can say why.
 */
export async function fetchMissingModels(
  config: Config,
  models: ModelManager,
  logger: Logger,
  onProgress: (p: Progress) => void,
  readiness?: Readiness,
): Promise<{ id: string; stage: Stage; error: VoiceError }[]> {
  const failures = [];
  const missing = await missingModels(config, models);
  for (const { id, stage } of missing) readiness?.downloading(stage, `waiting to download model ${id}`);
  for (const { id, stage } of missing) {
    logger.info({ model: id, into: models.targetDir }, 'first run: downloading a missing model');
    try {
      const status = await models.fetch(id, {
        onProgress: (p) => {
          readiness?.downloading(stage, `downloading ${p.file}: ${Math.floor((p.done / p.total) * 100)} %`);
          onProgress(p);
        },
      });
      if (status.state !== 'present') throw new VoiceError('download_failed', `${id}: still ${status.state} after download`);
      logger.info({ model: id }, 'model downloaded and verified');
    } catch (err) {
      const error = err instanceof VoiceError ? err : new VoiceError('download_failed', (err as Error).message);
      logger.error({ model: id, code: error.code, err: error.message }, 'model download failed');
      failures.push({ id, stage, error });
    }
  }
  return failures;
}
