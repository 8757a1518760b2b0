import ort from 'onnxruntime-node';
import { VoiceError } from '../errors.js';
import { loadedInfo, type Device, type EngineInfo, type EngineLoadOptions } from './types.js';

/**
 * An onnxruntime session with explicit threads, on CUDA when asked and available, else on the CPU
 * with one logged warning. Returns the session and the engine's info (device after fallback).
 */
export async function createOrtSession(
  modelPath: string,
  engine: string,
  modelId: string,
  options: EngineLoadOptions,
): Promise<{ session: ort.InferenceSession; info: EngineInfo }> {
  const started = performance.now();
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  let device: Device = options.device;
  let fallbackReason: string | undefined;
  let session: ort.InferenceSession | undefined;
  if (device === 'cuda') {
    try {
      session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cuda'] });
    } catch (err) {
      fallbackReason = `CUDA execution provider unavailable: ${(err as Error).message.split('\n')[0]}`;
      options.logger.warn({ engine, reason: fallbackReason }, `${engine} falls back to CPU`);
      device = 'cpu';
    }
  }
  try {
    session ??= await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
  } catch (err) {
    throw new VoiceError(
      'engine_unavailable',
      `${engine}: cannot load ${modelPath}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return { session, info: loadedInfo(engine, modelId, options, device, started, fallbackReason) };
}
