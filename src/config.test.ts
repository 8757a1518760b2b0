import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFields, configMarkdown, loadConfig } from './config.js';

describe('config', () => {
  it('has a documented default for every field', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      tlsCert: '',
      tlsKey: '',
      allowedOrigins: [],
      trustProxy: [],
      shutdownDeadlineMs: 10_000,
    });
    expect(config.stt.language).toBe('fr');
    for (const f of configFields()) {
      expect(f.doc, f.path).not.toBe('');
      expect(f.defaultValue, f.path).not.toBeUndefined();
    }
  });

  it('reads environment variables, with MODELS_DIR as an alias', () => {
    const config = loadConfig({
      env: {
        VOICE_SERVER_PORT: '9000',
        VOICE_STT_AUDIO_CTX: '750',
        MODELS_DIR: '/m',
        VOICE_STT_LANGUAGE: 'auto',
      },
    });
    expect(config.server.port).toBe(9000);
    expect(config.stt.audioCtx).toBe(750);
    expect(config.stt.language).toBe('auto');
    expect(config.models.dir).toBe('/m');
  });

  it('layers defaults < file < environment < overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voice-config-'));
    const yaml = join(dir, 'voice.yaml');
    writeFileSync(yaml, 'server:\n  port: 7000\n  host: 0.0.0.0\nstt:\n  language: en\n');
    const config = loadConfig({
      env: { VOICE_SERVER_PORT: '7100' },
      file: yaml,
      overrides: { stt: { language: 'de' } },
    });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 7100, tlsCert: '' });
    expect(config.stt.language).toBe('de');
    const json = join(dir, 'voice.json');
    writeFileSync(json, JSON.stringify({ vad: { threshold: 0.6 } }));
    expect(loadConfig({ env: { VOICE_CONFIG: json } }).vad.threshold).toBe(0.6);
  });

  it('config/production.yaml turns auth on, with the secret from the environment', () => {
    const config = loadConfig({ file: 'config/production.yaml', env: { VOICE_AUTH_SECRET: 's'.repeat(40) } });
    expect(config.auth).toMatchObject({ enabled: true, algorithm: 'HS256', secret: 's'.repeat(40) });
    expect(config.auth.openPaths).toEqual(['/health']);
  });

  it('reads lists from the environment as JSON arrays or comma-separated values', () => {
    expect(loadConfig({ env: { VOICE_AUTH_OPEN_PATHS: '/health, /ready' } }).auth.openPaths).toEqual([
      '/health',
      '/ready',
    ]);
    expect(loadConfig({ env: { VOICE_AUTH_OPEN_PATHS: '["/metrics"]' } }).auth.openPaths).toEqual([
      '/metrics',
    ]);
    expect(() => loadConfig({ env: { VOICE_AUTH_OPEN_PATHS: 'health' } })).toThrow(
      /auth\.openPaths \(VOICE_AUTH_OPEN_PATHS\).*a JSON array or a comma-separated list/,
    );
  });

  it('names the field, its variable and the accepted values on an invalid value', () => {
    expect(() => loadConfig({ env: { VOICE_STT_DEVICE: 'gpu' } })).toThrow(
      'stt.device (VOICE_STT_DEVICE) = "gpu" from env VOICE_STT_DEVICE is invalid: expected one of cpu, cuda',
    );
    expect(() => loadConfig({ env: { VOICE_SERVER_PORT: 'eighty' } })).toThrow(
      /server\.port .*expected an integer >= 0 <= 65535/,
    );
    expect(() => loadConfig({ env: { VOICE_STT_AUDIO_CTX: 'small' } })).toThrow(
      /expected "auto" or "full" or an integer >= 64 <= 1500/,
    );
  });

  it('rejects unknown fields and unreadable files with the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'voice-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'stt:\n  langauge: fr\n');
    expect(() => loadConfig({ env: {}, file })).toThrow(/unknown field stt\.langauge/);
    writeFileSync(file, 'stt: [unclosed');
    expect(() => loadConfig({ env: {}, file })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, file: join(dir, 'none.yaml') })).toThrow(
      /none\.yaml: cannot read it \(ENOENT\)/,
    );
  });

  it('rejects a session inbox smaller than two messages', () => {
    expect(() =>
      loadConfig({
        env: {},
        overrides: { realtime: { maxFrameBytes: 1024 * 1024, maxPendingBytes: 1024 * 1024 } },
      }),
    ).toThrow(/realtime\.maxPendingBytes \(1048576\) must be at least twice realtime\.maxFrameBytes/);
  });

  it('docs/configuration.md is generated from the schema and up to date', () => {
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toBe(configMarkdown());
  });
});
