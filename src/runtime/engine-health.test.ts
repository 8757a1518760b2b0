import { describe, expect, it } from 'vitest';
import { VoiceError } from '../errors.js';
import { silentLogger } from '../log.js';
import { EngineHealth } from './engine-health.js';
import { Readiness, STAGES } from './readiness.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function readyReport(): Readiness {
  const r = new Readiness();
  for (const stage of STAGES) {
    r.loaded(stage, { engine: 'x', model: 'x', device: 'cpu', threads: 1, loadMs: 0 });
    r.warmed(stage, 0);
  }
  return r;
}

describe('EngineHealth', () => {
  it('stuckEngineTurnsReadyOff: a job still running after its cancel marks the engine stuck until it ends', async () => {
    const readiness = readyReport();
    const health = new EngineHealth(
      'llm',
      readiness,
      { stuckAfterMs: 30, maxConsecutiveFailures: 3 },
      silentLogger,
    );
    const controller = new AbortController();
    const job = health.begin(controller.signal);
    await tick(50);
    expect(readiness.ready).toBe(true); // running long is not stuck: only after a cancel
    controller.abort(new VoiceError('aborted', 'barge-in'));
    await tick(50);
    expect(readiness.ready).toBe(false);
    expect(readiness.engines.llm.state).toBe('stuck');
    expect(readiness.engines.llm.reason).toContain('cancelled');
    job.end();
    expect(readiness.ready).toBe(true);
    expect(readiness.engines.llm.state).toBe('ready');
  });

  it('a job that stops soon after its cancel is not stuck', async () => {
    const readiness = readyReport();
    const health = new EngineHealth(
      'tts',
      readiness,
      { stuckAfterMs: 30, maxConsecutiveFailures: 3 },
      silentLogger,
    );
    const controller = new AbortController();
    const job = health.begin(controller.signal);
    controller.abort(new VoiceError('aborted', 'barge-in'));
    await tick(5);
    job.end(new VoiceError('aborted', 'barge-in'));
    await tick(50);
    expect(readiness.ready).toBe(true);
  });

  it('failingEngineTurnsReadyOff: failures in a row mark it failing, one success clears it; cancels and bad input do not count', () => {
    const readiness = readyReport();
    const health = new EngineHealth(
      'stt',
      readiness,
      { stuckAfterMs: 1000, maxConsecutiveFailures: 3 },
      silentLogger,
    );
    const fail = (err: unknown) => health.begin(undefined).end(err);
    fail(new VoiceError('engine_failed', 'one'));
    fail(new VoiceError('timeout', 'two'));
    fail(new VoiceError('aborted', 'barge-in'));
    fail(new VoiceError('empty_audio', 'nothing'));
    fail(new DOMException('This operation was aborted', 'AbortError'));
    expect(readiness.ready).toBe(true);
    fail(new VoiceError('engine_failed', 'three'));
    expect(readiness.ready).toBe(false);
    expect(readiness.engines.stt).toMatchObject({ state: 'failing', lastError: { code: 'engine_failed' } });
    expect(readiness.engines.stt.reason).toContain('three');
    health.begin(undefined).end();
    expect(readiness.ready).toBe(true);
    expect(readiness.engines.stt.state).toBe('ready');
  });

  it('a job its stage timer stopped counts as a failure (a time-out), not as a cancel', () => {
    const readiness = readyReport();
    const health = new EngineHealth(
      'llm',
      readiness,
      { stuckAfterMs: 1000, maxConsecutiveFailures: 1 },
      silentLogger,
    );
    const controller = new AbortController();
    const job = health.begin(controller.signal);
    controller.abort(new VoiceError('timeout', 'first LLM token took longer than 300 ms'));
    job.end(); // the engine ended its stream quietly (`aborted`)
    expect(readiness.engines.llm.state).toBe('failing');
  });
});
