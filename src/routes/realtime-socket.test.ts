import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../log.js';
import { socketTransport } from './realtime-socket.js';

describe('socketTransport', () => {
  it('stalledReaderIsDisconnected: a client that stops reading is cut once the unsent bytes pass the cap', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const accepted = new Promise<WebSocket>((r) => server.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await new Promise((r) => client.once('open', r));
    const socket = await accepted;
    // The client reads nothing more: first the kernel buffers fill, then ws's own.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    const transport = socketTransport(socket, 256 * 1024, silentLogger);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    const event = { type: 'response.output_audio.delta', delta: 'A'.repeat(100_000) } as never;
    let sends = 0;
    while (socket.readyState === socket.OPEN && sends < 2000) {
      transport.sendJson(event);
      sends++;
      if (sends % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await closed;
    // Cut after the kernel's buffers and 256 kB more, not after the 200 MB a stalled client would hold.
    expect(sends).toBeLessThan(2000);
    expect(transport.bufferedBytes!()).toBeLessThan(512 * 1024);
    client.terminate();
    server.close();
  });

  it('a reader that keeps up is never cut', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const accepted = new Promise<WebSocket>((r) => server.once('connection', r));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    let received = 0;
    client.on('message', () => received++);
    await new Promise((r) => client.once('open', r));
    const socket = await accepted;
    const transport = socketTransport(socket, 256 * 1024, silentLogger);
    for (let i = 0; i < 200; i++) {
      transport.sendJson({ type: 'response.output_audio.delta', delta: 'A'.repeat(10_000) } as never);
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toBe(200);
    expect(socket.readyState).toBe(socket.OPEN);
    client.close();
    server.close();
  });
});
