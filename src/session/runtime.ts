import type { Config } from '../config.js';
import { loadLlm, loadStt, loadTts, loadVad } from '../engines/factory.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { Logger } from '../log.js';
import type { ModelManager } from '../models/manager.js';
import { FillerBank } from '../pipeline/fillers.js';
import { encodeForWire } from '../protocol/audio-format.js';
import { defaultSettings } from '../protocol/session-settings.js';
import { SentenceCache } from '../pipeline/sentence-cache.js';
import type { SessionEngines } from './session.js';

/** What every real-time session shares: engines loaded once, fillers, the sentence cache. */
export interface RealtimeRuntime {
  engines: SessionEngines;
  fillers: FillerBank | undefined;
  cache: SentenceCache;
  /** Reported as the session's model: the LLM in use. */
  model: string;
  close(): Promise<void>;
}

export async function loadRuntime(
  config: Config,
  models: ModelManager,
  logger: Logger,
): Promise<RealtimeRuntime> {
  const vad = await loadVad(config, models, logger);
  const stt = await loadStt(config, models, logger, vad);
  const llm = await loadLlm(config, models, logger);
  const tts = await loadTts(config, models, logger);
  const voice = config.tts.voice === 'auto' ? voiceId(tts) : config.tts.voice;
  const voices = new Map<string, TtsEngine>([[voice, tts]]);
  const fillers = config.realtime.fillers
    ? await FillerBank.build(voices, config.realtime.fillerPhrases, logger)
    : undefined;
  // Sessions start in this format: their first filler then costs no resampling.
  const { outputFormat } = defaultSettings(config, voice);
  for (const f of fillers?.all() ?? []) encodeForWire(f.samples, f.sampleRate, outputFormat);
  return {
    engines: { vad, stt, llm, voices, defaultVoice: voice },
    fillers,
    cache: new SentenceCache(config.realtime.sentenceCacheSize),
    model: `${llm.info.engine}:${llm.info.model}`,
    async close() {
      await Promise.allSettled([vad.close(), stt.close(), llm.close(), tts.close()]);
    },
  };
}

function voiceId(tts: TtsEngine): string {
  return tts.info.engine === 'espeak-ng' ? `espeak:${tts.info.model}` : tts.info.model;
}
