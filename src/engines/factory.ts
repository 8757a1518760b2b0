import { resolveLlmThreads, resolveThreads, type Config } from '../config.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelManager } from '../models/manager.js';
import { OllamaLlm } from './llm/ollama.js';
import { OpenAiLlm } from './llm/openai.js';
import { LlmPool } from './llm/pool.js';
import { poolEndpoints } from './llm/pool-endpoints.js';
import { ollamaOptions, openAiOptions } from './llm/options.js';
import type { LlmEngine } from './llm/types.js';
import { WhisperStt } from './stt/whisper.js';
import { EspeakTts } from './tts/espeak.js';
import { PiperTts } from './tts/piper.js';
import type { TtsEngine } from './tts/types.js';
import { SmartTurn } from './turn/smart-turn.js';
import { SileroVad } from './vad/silero.js';
import type { SegmenterOptions } from './vad/types.js';

/** Builds engines from the config and the model manager (missing models fail with the fixing command). */
export async function loadVad(config: Config, models: ModelManager, logger: Logger): Promise<SileroVad> {
  const path = await models.resolveMain(config.vad.model);
  return SileroVad.load(path, config.vad.model, { threads: config.vad.threads, device: 'cpu', logger });
}

export async function loadTurn(config: Config, models: ModelManager, logger: Logger): Promise<SmartTurn> {
  const path = await models.resolveMain(config.turns.model);
  return SmartTurn.load(path, config.turns.model, { threads: config.turns.threads, device: 'cpu', logger });
}

export { TURN_FALLBACK } from './turn/types.js';

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
    beamSize: config.stt.beamSize,
    timeoutMs: config.stt.timeoutMs,
    maxBatchWaiting: config.engines.maxQueuedHttpJobs,
    batchLive: config.stt.liveBatching,
    logger,
    ...(vad ? { vad: { engine: vad, options: segmenterOptions(config) } } : {}),
  });
}

/**
 * The configured LLM engine. `auto`: Ollama when it answers and has the configured model, else
 * the embedded llama.cpp; the choice and its reason are logged.
 */
export async function loadLlm(config: Config, models: ModelManager, logger: Logger): Promise<LlmEngine> {
  const c = config.llm;
  const threads = resolveLlmThreads(c.threads);
  const ollama = () => OllamaLlm.connect(ollamaOptions(config, c.ollamaHost, threads, logger));
  const embedded = async () => {
    // Imported here: node-llama-cpp takes 0.3 s to import, which then runs beside the other
    // engines' loading instead of before the server listens (and not at all with Ollama).
    const { LlamaCppLlm } = await import('./llm/llamacpp.js');
    return LlamaCppLlm.load(await models.resolveMain(c.model), c.model, {
      threads,
      device: c.device,
      logger,
      contextSize: c.contextSize,
      maxTokens: c.maxTokens,
      temperature: c.temperature,
    });
  };
  if (c.pool.length > 0)
    return LlmPool.connect(poolEndpoints(config, threads, logger), {
      healthIntervalMs: c.poolHealthIntervalMs,
      firstTokenTimeoutMs: c.poolFirstTokenTimeoutMs,
      logger,
    });
  switch (c.engine) {
    case 'ollama':
      return ollama();
    case 'llamacpp':
      return embedded();
    case 'openai':
      return OpenAiLlm.connect(openAiOptions(config, c.openaiBaseUrl, logger));
    case 'auto': {
      try {
        const engine = await ollama();
        engine.info.chosenBecause = `auto: Ollama at ${c.ollamaHost} has ${c.ollamaModel}`;
        logger.info({ engine: 'ollama', host: c.ollamaHost, model: c.ollamaModel }, 'LLM: using Ollama');
        return engine;
      } catch (err) {
        logger.info(
          { engine: 'llama.cpp', model: c.model, reason: (err as Error).message },
          'LLM: using the embedded llama.cpp (Ollama not usable)',
        );
        const engine = await embedded();
        engine.info.chosenBecause = `auto: Ollama not usable (${(err as Error).message})`;
        return engine;
      }
    }
  }
}

/**
 * The TTS engine for a voice id: a Piper voice of the manifest, `espeak:LANG`, or `auto` (the first
 * French Piper voice present, else espeak-ng French).
 */
export async function loadTts(
  config: Config,
  models: ModelManager,
  logger: Logger,
  voice = config.tts.voice,
): Promise<TtsEngine> {
  let id = voice;
  if (id === 'auto') {
    const french = models.manifest.models.filter((m) => m.engine === 'piper' && m.id.startsWith('fr_FR-'));
    const statuses = await Promise.all(french.map((m) => models.status(m.id)));
    id = statuses.find((s) => s.state === 'present')?.model.id ?? 'espeak:fr';
  }
  if (id.startsWith('espeak:')) return EspeakTts.load(id.slice('espeak:'.length));
  const model = models.get(id);
  if (model.engine !== 'piper')
    throw new VoiceError('invalid_argument', `${id} is a ${model.engine} model, not a voice`);
  const paths = await models.resolve(id);
  return PiperTts.load(paths[`${id}.onnx`]!, paths[`${id}.onnx.json`]!, id, {
    threads: config.tts.threads,
    device: config.tts.device,
    logger,
  });
}
