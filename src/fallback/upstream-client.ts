import { readFileSync } from 'node:fs';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import WebSocket from 'ws';
import type { Config } from '../config.js';
import { VoiceError } from '../errors.js';
import type { Logger } from '../log.js';
import { BETA_NAMES } from '../protocol/server-events.js';

/** Upstream events in GA names (a beta upstream's names are mapped). */
export type UpstreamEvent = RealtimeServerEvent | { type: string; [field: string]: unknown };

export interface UpstreamHandlers {
  event(event: UpstreamEvent): void;
  /** The upstream closed (or the connection broke) without `close()` being called. */
  lost(error: VoiceError): void;
}

/** What a session needs of its upstream connection. */
export interface UpstreamLink {
  send(event: { type: string } & Record<string, unknown>): void;
  close(): void;
}

/** Larger upstream messages are refused (an audio delta is a few kilobytes). */
const MAX_UPSTREAM_MESSAGE = 16 * 1024 * 1024;

const GA_NAMES = Object.fromEntries(Object.entries(BETA_NAMES).map(([ga, beta]) => [beta, ga]));

/**
 * One WebSocket to the OpenAI Realtime API (or a server speaking it): `Authorization: Bearer`,
 * `?model=`, the beta header when configured. `connect` resolves once the upstream has sent
 * `session.created`, so a server that answers the upgrade but is no Realtime server fails there.
 * Errors carry catalogue codes; the key is never part of a message.
 */
export class UpstreamRealtime implements UpstreamLink {
  private closedByUs = false;

  private constructor(
    private readonly socket: WebSocket,
    readonly log: Logger,
  ) {}

  static connect(
    options: Config['fallback']['realtime'],
    handlers: UpstreamHandlers,
    log: Logger,
  ): Promise<UpstreamRealtime> {
    const url = new URL(options.url);
    url.searchParams.set('model', options.model);
    const socket = new WebSocket(url, {
      headers: {
        Authorization: `Bearer ${options.apiKey}`,
        ...(options.dialect === 'beta' ? { 'OpenAI-Beta': 'realtime=v1' } : {}),
      },
      handshakeTimeout: options.connectTimeoutMs,
      maxPayload: MAX_UPSTREAM_MESSAGE,
      ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
    });
    const upstream = new UpstreamRealtime(socket, log);
    const where = `${url.host}${url.pathname}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: VoiceError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        upstream.closedByUs = true;
        socket.terminate();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new VoiceError(
              'fallback_unavailable',
              `the fallback upstream ${where} did not open a session within ${options.connectTimeoutMs} ms`,
            ),
          ),
        options.connectTimeoutMs,
      );
      socket.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        fail(
          status === 401 || status === 403
            ? new VoiceError(
                'fallback_auth_failed',
                `the fallback upstream ${where} refused its key (HTTP ${status})`,
              )
            : new VoiceError(
                'fallback_unavailable',
                `the fallback upstream ${where} answered HTTP ${status}`,
              ),
        );
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const error = new VoiceError(
          'fallback_unavailable',
          `the fallback upstream ${where} cannot be reached (${err.code ?? err.message})`,
        );
        if (!settled) fail(error);
        else log.warn({ err: err.code ?? err.message }, 'fallback upstream connection error');
      });
      socket.on('message', (data, isBinary) => {
        const event = isBinary ? undefined : parseUpstreamEvent(Buffer.from(data as Buffer).toString());
        if (!event) return log.debug('fallback upstream sent a message that is not an event: ignored');
        if (!settled) {
          if (event.type === 'session.created') {
            settled = true;
            clearTimeout(timer);
            resolve(upstream);
          } else if (event.type === 'error') {
            const { code, message } = (event as { error?: { code?: string; message?: string } }).error ?? {};
            fail(
              new VoiceError(
                /auth|key|token/i.test(`${code}`) ? 'fallback_auth_failed' : 'fallback_unavailable',
                `the fallback upstream ${where} refused the session: ${String(code ?? message).slice(0, 200)}`,
              ),
            );
          }
          return;
        }
        handlers.event(event);
      });
      socket.on('close', (code) => {
        if (!settled)
          return fail(
            new VoiceError(
              'fallback_unavailable',
              `the fallback upstream ${where} closed the connection (${code})`,
            ),
          );
        if (upstream.closedByUs) return;
        upstream.closedByUs = true;
        handlers.lost(
          new VoiceError('fallback_failed', `the fallback upstream closed the session (code ${code})`),
        );
      });
    });
  }

  send(event: { type: string } & Record<string, unknown>): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(event));
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.socket.close(1000, 'session ended');
    // A peer that does not answer the close handshake is cut.
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }
}

/** An upstream text message → an event with GA names; undefined when it is not an event. */
export function parseUpstreamEvent(text: string): UpstreamEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const event = json as { type?: unknown };
  if (typeof event.type !== 'string') return undefined;
  const ga = GA_NAMES[event.type];
  return (ga ? { ...event, type: ga } : event) as UpstreamEvent;
}
