import type { Config } from '../config.js';
import { loadLlm, loadStt, loadTts, loadTurn, loadVad, TURN_FALLBACK } from '../engines/factory.js';
import type { TurnEngine } from '../engines/turn/types.js';
import { LlmPool } from '../engines/llm/pool.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { EngineInfo, EngineSet } from '../engines/types.js';
import type { Logger } from '../log.js';
import type { ModelManager } from '../models/manager.js';
import { FillerBank } from '../pipeline/fillers.js';
import { SentenceCache } from '../pipeline/sentence-cache.js';
import { encodeForWire, type WireAudioFormat } from '../protocol/audio-format.js';
import { defaultSettings } from '../protocol/session-settings.js';
import { Readiness, type Stage } from './readiness.js';
import { superviseEngines } from './supervise.js';
import { warmLlm, warmSpeech, type WarmUpOptions } from './warm-up.js';

/**
 * What every request and real-time session shares: the engines, loaded and warmed once, the
 * fillers, the sentence cache, and the readiness report of /ready.
 */
export interface Runtime {
  engines: EngineSet;
  fillers: FillerBank | undefined;
  cache: SentenceCache;
  /** Reported as the model of sessions and chat answers: the LLM in use. */
  model: string;
  readiness: Readiness;
  /** The LLM servers of `llm.pool` (per-endpoint state for /ready and /metrics); absent without one. */
  llmPool?: LlmPool;
  close(): Promise<void>;
}

/**
 * Loads every engine and warms each with one real run; `readiness` follows along (pass one in to
 * report progress while this runs). The LLM loads (its binary check, its weights) while the
 * speech engines load and warm, so start-up takes the longer of the two, not their sum. Fails with
 * the first engine that cannot load or warm, once the others have settled and been closed.
 */
export async function loadRuntime(
  config: Config,
  models: ModelManager,
  logger: Logger,
  readiness = new Readiness(),
): Promise<Runtime> {
  const loaded: { close(): Promise<void> }[] = [];
  const load = async <T extends { info: EngineInfo; close(): Promise<void> }>(
    stage: Stage,
    work: () => Promise<T>,
  ): Promise<T> => {
    readiness.loading(stage);
    try {
      const engine = await work();
      loaded.push(engine);
      readiness.loaded(stage, engine.info);
      return engine;
    } catch (err) {
      readiness.failed(stage, err);
      throw err;
    }
  };
  const warmOptions: WarmUpOptions = {
    timeoutMs: Math.max(config.stt.timeoutMs, config.llm.timeoutMs),
    instructions: config.realtime.instructions,
    onWarm: (stage, ms) => {
      readiness.warmed(stage, ms);
      logger.info({ stage, warmMs: Math.round(ms) }, 'engine warmed up');
    },
  };
  /** A failed warm-up is the failure of the first of `stages` not yet warmed. */
  const warming = async (stages: Stage[], work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      const stage = stages.find((s) => readiness.engines[s].state === 'warming');
      if (stage) readiness.failed(stage, err);
      throw err;
    }
  };
  const llmReady = load('llm', () => loadLlm(config, models, logger));
  const speechReady = (async () => {
    const [vad, tts] = await Promise.all([
      load('vad', () => loadVad(config, models, logger)),
      load('tts', () => loadTts(config, models, logger)),
    ]);
    const stt = await load('stt', () => loadStt(config, models, logger, vad));
    const optional = await loadOptionalTurn(config, models, logger, readiness);
    if (optional.turn) loaded.push(optional.turn);
    const voice = config.tts.voice === 'auto' ? voiceId(tts) : config.tts.voice;
    const voices = new Map<string, TtsEngine>([[voice, tts]]);
    await warming(['tts', 'vad', 'stt'], () => warmSpeech({ vad, stt, tts }, warmOptions));
    const fillers = config.realtime.fillers
      ? await FillerBank.build(voices, config.realtime.fillerPhrases, logger)
      : undefined;
    // Sessions start in this format, phone calls in μ-law 8 kHz: their first filler then costs no
    // resampling (encodings are cached per clip and format).
    const formats: WireAudioFormat[] = [defaultSettings(config, voice).outputFormat];
    if (config.telephony.enabled) formats.push({ type: 'audio/pcmu' });
    for (const f of fillers?.all() ?? [])
      for (const format of formats) encodeForWire(f.samples, f.sampleRate, format);
    return { vad, stt, tts, voice, voices, fillers, ...optional };
  })();
  const llmWarmed = llmReady.then(async (llm) => {
    await warming(['llm'], () => warmLlm(llm, config.stt.language, warmOptions));
    return llm;
  });
  try {
    const [speech, llm] = await Promise.all([speechReady, llmWarmed]);
    const { vad, stt, tts, turn, turnUnavailable, voice, voices, fillers } = speech;
    logger.info({ readyAfterMs: readiness.readyAfterMs }, 'engines loaded and warmed up');
    return {
      engines: superviseEngines(
        { vad, stt, llm, voices, defaultVoice: voice, ...(turn ? { turn } : { turnUnavailable }) },
        config,
        readiness,
        logger,
      ),
      fillers,
      cache: new SentenceCache(config.realtime.sentenceCacheSize),
      model: `${llm.info.engine}:${llm.info.model}`,
      readiness,
      ...(llm instanceof LlmPool ? { llmPool: llm } : {}),
      async close() {
        await Promise.allSettled([vad.close(), stt.close(), llm.close(), tts.close(), turn?.close()]);
      },
    };
  } catch (err) {
    // The other half may still be loading: close everything once it has settled.
    await Promise.allSettled([speechReady, llmWarmed]);
    await Promise.allSettled(loaded.map((e) => e.close()));
    throw err;
  }
}

function voiceId(tts: TtsEngine): string {
  return tts.info.engine === 'espeak-ng' ? `espeak:${tts.info.model}` : tts.info.model;
}

/**
 * The end-of-turn model, loaded and warmed on a second of silence. Without it (missing, corrupt,
 * not a Smart Turn model) the service still serves: sessions run server_vad, with one warning,
 * and /ready says so.
 */
export async function loadOptionalTurn(
  config: Config,
  models: ModelManager,
  logger: Logger,
  readiness: Readiness,
): Promise<{ turn?: TurnEngine; turnUnavailable?: string }> {
  readiness.loading('turn');
  let turn: TurnEngine | undefined;
  try {
    turn = await loadTurn(config, models, logger);
    readiness.loaded('turn', turn.info);
    const t0 = performance.now();
    await turn.predict(new Float32Array(16000));
    readiness.warmed('turn', performance.now() - t0);
    return { turn };
  } catch (err) {
    await turn?.close().catch(() => undefined);
    const reason = (err as Error).message;
    readiness.failed('turn', err, TURN_FALLBACK);
    logger.warn({ model: config.turns.model, reason }, `end-of-turn model unavailable: ${TURN_FALLBACK}`);
    return { turnUnavailable: reason };
  }
}
