import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP pass-through to `port` on loopback that a test can cut: every byte goes through unread
 * (TLS stays end to end), and `cut()` destroys the open connections, as a network failure would.
 */
export class TcpCable {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async open(targetPort: number): Promise<TcpCable> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpCable(server, sockets, (server.address() as { port: number }).port);
  }

  /** Connections through the cable now. */
  get open(): number {
    return this.sockets.size / 2;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
