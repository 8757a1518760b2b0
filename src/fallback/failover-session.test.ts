import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config.js';
import { VoiceError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { ServerEvent } from '../protocol/server-events.js';
import { FailoverSession } from './failover-session.js';
import { UpstreamSession } from './upstream-session.js';

afterEach(() => vi.restoreAllMocks());

describe('FailoverSession', () => {
  it('messagesOfASessionThatClosedItselfAreDropped: queued messages are not handed back to the session they came from', async () => {
    const receive = vi.spyOn(UpstreamSession.prototype, 'receive');
    const sent: ServerEvent[] = [];
    let closedWith: number | undefined;
    const config = loadConfig({
      env: {},
      overrides: { fallback: { realtime: { apiKey: 'k', policy: ['unready'] } } },
    });
    const session = new FailoverSession(
      {
        id: 'sess_test',
        config,
        logger: silentLogger,
        dialect: 'ga',
        transport: {
          sendJson: (e) => sent.push(e),
          sendBinary: () => undefined,
          close: (code) => (closedWith = code),
        },
        runtime: () => undefined,
        hasRoom: () => true,
        // The upstream cannot be reached, and no local engine serves: the session closes itself.
        connectUpstream: () =>
          new Promise((_, reject) =>
            setTimeout(() => reject(new VoiceError('fallback_unavailable', 'refused')), 30),
          ),
      },
      'unready',
    );
    for (let i = 0; i < 20; i++)
      void session.receive(JSON.stringify({ type: 'input_audio_buffer.clear' }), false);
    await new Promise((r) => setTimeout(r, 300));
    expect(closedWith).toBe(1013);
    expect(sent.filter((e) => e.type === 'error').map((e) => (e.error as { code: string }).code)).toEqual([
      'fallback_unavailable',
    ]);
    // Before the fix each queued message went back to the closed session, and again, until the
    // message rate limit stopped the loop (about 200 calls).
    expect(receive).toHaveBeenCalledTimes(20);
  });
});
