import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../src/config.js';
import { loadLlm } from '../src/engines/factory.js';
import type { LlmEngine } from '../src/engines/llm/types.js';
import { silentLogger } from '../src/log.js';
import { ModelManager } from '../src/models/manager.js';
import { openKnowledgeBase } from '../src/rag/open.js';
import type { KnowledgeBase } from '../src/rag/types.js';
import { buildServer } from '../src/server.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

/**
 * The knowledge base from a fresh install: `voice kb` indexes a French Markdown guide into the
 * service's database, and `/chat` on the real LLM (SmolLM2 on llama.cpp) answers a question whose
 * answer is only in that guide, listing its source.
 */
const GUIDE = 'test/fixtures/kb/residence-les-tilleuls.md';
const tmp = mkdtempSync(join(tmpdir(), 'voice-kb-'));
const env = { ...process.env, VOICE_STORE_PATH: join(tmp, 'voice.db'), VOICE_LOG_LEVEL: 'warn' };
const voice = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/voice.js', 'kb', ...args], { env, encoding: 'utf8', timeout: 60_000 });

let config: Config;
let llm: LlmEngine;
let kb: KnowledgeBase;
let app: Awaited<ReturnType<typeof buildServer>>;
let url: string;

beforeAll(async () => {
  requireSharedAssets();
  config = loadConfig({
    env: { MODELS_DIR, VOICE_STORE_PATH: env.VOICE_STORE_PATH },
    overrides: { llm: { engine: 'llamacpp', temperature: 0 } },
  });
  llm = await loadLlm(config, new ModelManager({ modelsDir: MODELS_DIR }), silentLogger);
});
afterAll(async () => {
  await app?.close();
  await kb?.close();
  await llm?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('voice kb', () => {
  it('adds, lists, searches and removes documents in the service database', () => {
    const added = voice('add', GUIDE);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const [id] = /doc_[0-9a-f]{16}/.exec(added.stdout)!;
    expect(added.stdout).toMatch(/residence-les-tilleuls\.md: \d+ passages/);
    expect(voice('list').stdout).toContain(`${id}`);
    const found = voice('search', 'Quel est le code du portail ?', '--k', '1', '--json');
    expect(found.status).toBe(0);
    const [top] = JSON.parse(found.stdout) as { text: string; source: string }[];
    expect(top).toMatchObject({
      source: 'residence-les-tilleuls.md',
      text: expect.stringContaining('4821') as string,
    });
    // Added again unchanged: still one document.
    voice('add', GUIDE);
    expect(JSON.parse(voice('list', '--json').stdout)).toHaveLength(1);
    const other = join(tmp, 'autre.md');
    writeFileSync(other, '# Autre\n\nUn document de plus.');
    expect(voice('add', other).status).toBe(0);
    const otherId = /doc_[0-9a-f]{16}/.exec(
      voice('list')
        .stdout.split('\n')
        .find((l) => l.includes('autre.md'))!,
    )![0];
    expect(voice('remove', otherId).status).toBe(0);
    expect(voice('list').stdout).not.toContain('autre.md');
  });

  it('bad input: a coded error naming the file, and nothing of the batch is indexed', () => {
    const photo = join(tmp, 'photo.jpg');
    const binary = join(tmp, 'binaire.txt');
    const good = join(tmp, 'bon.md');
    writeFileSync(photo, 'x');
    writeFileSync(binary, Buffer.from([0xff, 0xfe, 0x00, 0xd8]));
    writeFileSync(good, '# Bon\n\nUn bon document.');
    const refused = voice('add', good, photo);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/photo\.jpg.*\[kb_unsupported_type\]/);
    const unreadable = voice('add', good, binary);
    expect(unreadable.stderr).toMatch(/binaire\.txt: not UTF-8 text \[kb_document_unreadable\]/);
    expect(voice('list').stdout).not.toContain('bon.md');
    expect(voice('remove', 'doc_nope').stderr).toMatch(/\[kb_document_not_found\]/);
    expect(voice('add', join(tmp, 'absent.md')).stderr).toMatch(/\[file_not_found\]/);
  });

  it('/chat answers from the knowledge base and lists the source (real LLM)', async () => {
    expect(voice('add', GUIDE).status).toBe(0); // unchanged if the first test added it
    kb = openKnowledgeBase(config)!;
    const runtime = await fakeRuntime({ llm }, config);
    app = await buildServer({
      config,
      logger: silentLogger,
      runtime: () => runtime,
      store: new SqliteStore(config.store.path),
      kb,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const res = await fetch(`${url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Quel est le code du portail de la résidence Les Tilleuls ?' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      text: string;
      sources: { source: string; chunk_id: string }[];
      timings: { marks: Record<string, number> };
    };
    console.log(`/chat with the knowledge base: ${JSON.stringify(body.text)}`);
    expect(body.text.split(/[.!?\n]/)[0]).toContain('4821'); // the first sentence says it
    expect(body.sources[0]).toMatchObject({
      source: 'residence-les-tilleuls.md',
      chunk_id: expect.stringMatching(/^doc_/) as string,
    });
    expect(body.timings.marks.rag_done).toBeGreaterThanOrEqual(body.timings.marks.rag_started!);
    expect(body.timings.marks.rag_done).toBeLessThan(body.timings.marks.first_llm_token!);

    // The same question without the knowledge base: the model cannot know the code.
    const bare = await buildServer({
      config,
      logger: silentLogger,
      runtime: () => runtime,
      store: new SqliteStore(':memory:'),
    });
    try {
      const res = await bare.inject({
        method: 'POST',
        url: '/chat',
        payload: { message: 'Quel est le code du portail de la résidence Les Tilleuls ?' },
      });
      const answer = res.json<{ text: string; sources: unknown[] }>();
      expect(answer.text).not.toContain('4821');
      expect(answer.sources).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
