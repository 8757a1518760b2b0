import { resolveThreads, type Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelManager } from '../models/manager.js';
import { WhisperStt } from './stt/whisper.js';
import { SileroVad } from './vad/silero.js';
import type { SegmenterOptions } from './vad/types.js';

/** Builds engines from the config and the model manager (missing models fail with the fixing command). */
export async function loadVad(config: Config, models: ModelManager, logger: Logger): Promise<SileroVad> {
  const path = await models.resolveMain(config.vad.model);
  return SileroVad.load(path, config.vad.model, { threads: config.vad.threads, device: 'cpu', logger });
}

export function segmenterOptions(config: Config): SegmenterOptions {
  const { threshold, minSpeechMs, minSilenceMs, prefixPaddingMs } = config.vad;
  return { threshold, minSpeechMs, minSilenceMs, prefixPaddingMs };
}

export async function loadStt(
  config: Config,
  models: ModelManager,
  logger: Logger,
  vad?: SileroVad,
): Promise<WhisperStt> {
  const path = await models.resolveMain(config.stt.model);
  return WhisperStt.load(path, config.stt.model, {
    threads: resolveThreads(config.stt.threads),
    device: config.stt.device,
    language: config.stt.language,
    audioCtx: config.stt.audioCtx,
    timeoutMs: config.stt.timeoutMs,
    logger,
    ...(vad ? { vad: { engine: vad, options: segmenterOptions(config) } } : {}),
  });
}
