/**
 * The simulated world's servers: for every world target a real listener on its own loopback
 * address (http on port 80; https, tls and tcp on 443), all answering from one process.
 *
 * Throttling happens on the server, as a slow or congested path would look: HTTP answers wait
 * `delayMs` before the response, TLS handshakes wait it before the ServerHello (in the SNI
 * callback). A bare tcp listener cannot delay the kernel's handshake; tcp targets are slowed by
 * SYN loss instead (FaultInjector.loss). HTTP answers 200 with `lookout-sim ok <id>`, or a
 * blockpage: 200 with BLOCKPAGE_TEXT, or 451. Behaviour changes apply to new requests and
 * handshakes. A `hostile` behaviour hands new connections to a middlebox instead
 * (src/sim/hostile.ts). Only loopback addresses are ever bound.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext } from 'node:tls';
import type { WorldCert } from './certs.js';
import { actHttp, actStream, hostileAppliesTo, hugeChainFlight, isHostileHttp, type HostileStats, type HostileStream } from './hostile.js';

/** Text every healthy world page carries (targets expect it). */
export const OK_TEXT = 'lookout-sim ok';
/** Text of the world's blockpage (targets list it as body_not_contains). */
export const BLOCKPAGE_TEXT = 'Access to this resource has been restricted by order of the authorities';

export type Service = 'http' | 'https' | 'tls' | 'tcp';

/** Port each service listens on. */
export function servicePort(service: Service): number {
  return service === 'http' ? 80 : 443;
}

export interface ServerBehaviour {
  /** Hold each new connection this long before answering; 0 answers at once. */
  delayMs: number;
  /** Answer HTTP requests with a blockpage: 200 (with BLOCKPAGE_TEXT) or 451; null: normal. */
  blockpage: 200 | 451 | null;
  /**
   * A middlebox answers new connections instead (src/sim/hostile.ts), when it acts on this
   * service (http_* on http and https, tls_* on tls and https, tcp_* on all); null: normal.
   */
  hostile?: HostileStream | null;
}

export const NORMAL: ServerBehaviour = { delayMs: 0, blockpage: null, hostile: null };

/** Idle connections (a tcp probe that never closes, a stalled client) are dropped after this. */
const IDLE_MS = 10_000;

interface Listener {
  id: string;
  service: Service;
  /** The listening socket: hands each connection to `inner` or to a hostile behaviour. */
  server: Server;
  /** The real server (http, https or tls), fed connections by `server`; null for tcp. */
  inner: Server | null;
  /** For http_* behaviours on https: a TLS server whose accepted connections misbehave. */
  hostileHttps: Server | null;
  behaviour: ServerBehaviour;
}

function isLoopbackV4(ip: string): boolean {
  return isIP(ip) === 4 && ip.startsWith('127.');
}

/** Every world target's listener; see the module comment. */
export class WorldServers {
  private readonly byId = new Map<string, Listener>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly context: SecureContext;
  /** The tls_huge_chain first flight, built on first use. */
  private chainFlight: Buffer | null = null;

  constructor(private readonly cert: WorldCert) {
    this.context = createSecureContext({ key: cert.key, cert: cert.cert });
  }

  /** Starts the listener of target `id` on `ip` (in 127.0.0.0/8) for `service`. */
  async add(id: string, ip: string, service: Service): Promise<void> {
    if (!isLoopbackV4(ip)) throw new Error(`world target ${id}: ${ip} is not a loopback address`);
    if (this.byId.has(id)) throw new Error(`world target ${id} is already listening`);
    const listener = { id, service, behaviour: NORMAL, hostileHttps: null } as unknown as Listener;
    listener.inner = this.serverFor(listener);
    listener.server = createNetServer((socket) => this.route(listener, socket));
    listener.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      // A tcp probe closes on its own; anything that stalls is dropped.
      socket.setTimeout(IDLE_MS, () => socket.destroy());
    });
    const port = servicePort(service);
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', (err) => reject(new Error(`world target ${id}: cannot listen on ${ip}:${port}: ${err.message}`)));
      listener.server.listen({ host: ip, port, backlog: 511 }, () => resolve());
    });
    listener.server.on('error', () => undefined);
    this.byId.set(id, listener);
  }

  /** Sets target `id`'s behaviour for new requests and handshakes; throws for an unknown id. */
  set(id: string, behaviour: ServerBehaviour): void {
    const listener = this.byId.get(id);
    if (!listener) throw new Error(`unknown world target ${id}`);
    listener.behaviour = behaviour;
  }

  /** Closes every listener and every open connection. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const closing = [...this.byId.values()].map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
    this.byId.clear();
    await Promise.all(closing);
  }

  /** Hands a new connection to the target's server, or to the hostile behaviour in force. */
  private route(listener: Listener, socket: Socket): void {
    const hostile = listener.behaviour.hostile ?? null;
    const service = listener.service;
    const stats: HostileStats = { written: 0, closed: false };
    if (hostile !== null && hostileAppliesTo(hostile, service)) {
      if (isHostileHttp(hostile) && service === 'https') {
        listener.hostileHttps ??= this.hostileHttpsServer(listener);
        listener.hostileHttps.emit('connection', socket);
        return;
      }
      actStream(hostile, socket, stats, () => (this.chainFlight ??= hugeChainFlight(pemToDer(this.cert.cert))));
      return;
    }
    if (listener.inner) listener.inner.emit('connection', socket);
    else socket.resume();
  }

  private hostileHttpsServer(listener: Listener): Server {
    const server = createTlsServer({ key: this.cert.key, cert: this.cert.cert }, (socket) => {
      socket.on('error', () => undefined);
      const hostile = listener.behaviour.hostile ?? null;
      // The fault ended during the handshake: nothing to misbehave with any more.
      if (hostile === null || !isHostileHttp(hostile)) socket.destroy();
      else actHttp(hostile, socket, { written: 0, closed: false });
    });
    server.on('tlsClientError', () => undefined);
    return server;
  }

  private serverFor(listener: Listener): Server | null {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      req.resume();
      this.later(listener.behaviour.delayMs, () => answer(listener, res));
    };
    switch (listener.service) {
      case 'http':
        return withClientErrors(createHttpServer({ keepAliveTimeout: 1000 }, handler));
      case 'https':
        return withClientErrors(createHttpsServer({ key: this.cert.key, cert: this.cert.cert, keepAliveTimeout: 1000 }, handler));
      case 'tls': {
        const server = createTlsServer({
          key: this.cert.key,
          cert: this.cert.cert,
          // The ServerHello waits for the callback: that is where a throttled handshake stalls.
          SNICallback: (_name, done) => this.later(listener.behaviour.delayMs, () => done(null, this.context)),
        });
        server.on('secureConnection', (socket) => {
          socket.on('error', () => undefined);
          socket.resume();
        });
        server.on('tlsClientError', () => undefined);
        return server;
      }
      case 'tcp':
        return null;
    }
  }

  private later(ms: number, work: () => void): void {
    if (ms <= 0) {
      work();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, ms);
    this.timers.add(timer);
  }
}

/** The DER bytes of the first certificate in a PEM string. */
function pemToDer(pem: string): Buffer {
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

function withClientErrors<T extends Server>(server: T): T {
  server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);
  return server;
}

function answer(listener: Listener, res: ServerResponse): void {
  if (res.destroyed) return;
  if (listener.behaviour.blockpage === 451) {
    res.writeHead(451, { 'content-type': 'text/html' }).end('<html><body><h1>451 Unavailable For Legal Reasons</h1></body></html>\n');
    return;
  }
  if (listener.behaviour.blockpage === 200) {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><h1>${BLOCKPAGE_TEXT}</h1></body></html>\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${OK_TEXT} ${listener.id}\n`);
}
