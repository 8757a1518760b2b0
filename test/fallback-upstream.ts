import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { WebSocket } from 'ws';
import { loadConfig, type Config, type ConfigInput } from '../src/config.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { buildServer } from '../src/server.js';
import { listenOnLoopback } from '../src/testing/listen.js';
import { TcpCable } from '../src/testing/tcp-cable.js';
import { selfSignedCert } from './helpers.js';

const SECRET = 'fallback-upstream-test-secret-of-32+chars';

/**
 * The fallback upstream of the fallback tests: a second instance of this service (it speaks the
 * OpenAI Realtime protocol) over TLS with a self-signed certificate, checking JWT bearer keys,
 * reached through a TCP cable the tests can cut. `fallback(...)` is the config section the local
 * instance needs to reach it.
 */
export class TestUpstream {
  /** Every client event the upstream received, in order, as the upstream server read it. */
  readonly received: { type: string; [field: string]: unknown }[] = [];

  private constructor(
    readonly app: Awaited<ReturnType<typeof buildServer>>,
    readonly cable: TcpCable,
    readonly cert: string,
    readonly key: string,
    private readonly dir: string,
    private readonly tls: boolean,
  ) {}

  /** `tls: false`: plain HTTP (the chat fallback's client takes no private CA; NODE_EXTRA_CA_CERTS would). */
  static async start(runtime: Runtime, overrides: ConfigInput = {}, tls = true): Promise<TestUpstream> {
    const dir = mkdtempSync(join(tmpdir(), 'voice-upstream-'));
    const { cert, key } = selfSignedCert(dir);
    const config = loadConfig({
      env: {},
      overrides: {
        ...overrides,
        server: tls ? { tlsCert: cert, tlsKey: key } : {},
        auth: { enabled: true, algorithm: 'HS256', secret: SECRET, maxSessionsPerToken: 100 },
      },
    });
    const { app } = await listenOnLoopback(config, runtime);
    const cable = await TcpCable.open((app.server.address() as { port: number }).port);
    const apiKey = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('local-voice-service')
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(SECRET));
    const upstream = new TestUpstream(app, cable, cert, apiKey, dir, tls);
    app.websocketServer.on('connection', (ws: WebSocket) =>
      ws.on('message', (data, isBinary) => {
        if (!isBinary)
          upstream.received.push(JSON.parse((data as Buffer).toString()) as TestUpstream['received'][number]);
      }),
    );
    return upstream;
  }

  /** The local instance's `fallback` config for this upstream (`key` to try another key). */
  fallback(
    policy: Config['fallback']['realtime']['policy'],
    extra: Partial<Config['fallback']['realtime']> = {},
  ): ConfigInput['fallback'] {
    return {
      realtime: {
        url: `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.cable.port}/v1/realtime`,
        apiKey: this.key,
        caFile: this.cert,
        model: 'local-upstream',
        policy,
        connectTimeoutMs: 5000,
        ...extra,
      },
    };
  }

  /** The local instance's `fallback.chat` config for this upstream. */
  chatFallback(
    policy: Config['fallback']['chat']['policy'],
    extra: Partial<Config['fallback']['chat']> = {},
  ): ConfigInput['fallback'] {
    return {
      chat: {
        url: `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.cable.port}/v1`,
        apiKey: this.key,
        model: 'local-upstream',
        policy,
        timeoutMs: 5000,
        ...extra,
      },
    };
  }

  async close(): Promise<void> {
    await this.cable.close();
    await this.app.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
