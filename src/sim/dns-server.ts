/**
 * A real, scriptable DNS server on loopback for the simulation world and the tests. It listens on
 * UDP and TCP on the same port of a loopback address and answers in wire format (dns-packet).
 *
 *   const dns = new FakeDnsServer({ 'example.test': { kind: 'answer', A: ['198.51.100.7'] } });
 *   await dns.start();                    // 127.0.0.1, a free port
 *   dns.address;                          // "127.0.0.1:40123", usable as a dns target's server
 *   dns.set('blocked.test', { kind: 'answer', A: ['0.0.0.0'] });
 *   dns.count('tcp');                     // queries received over TCP
 *   await dns.close();
 *
 * Behaviour is chosen per query name (case-insensitive, trailing dot ignored); a name without
 * one gets the default behaviour, NXDOMAIN unless set otherwise. It only ever binds loopback
 * addresses (127.0.0.0/8, ::1) and refuses anything else.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as dnsPacket from 'dns-packet';

/** Rcodes the server can answer with (RFC 1035 / IANA numbers). */
export const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODES;

/** Address records served for a name; a query for a type with no records gets NOERROR, empty. */
export interface Records {
  A?: string[];
  AAAA?: string[];
  /** Record TTL in seconds; default 60. */
  ttl?: number;
}

interface Common {
  /** Wait this long before answering (slow resolver); default 0. */
  delayMs?: number;
}

/** How the server treats queries for one name. */
export type DnsBehaviour =
  /** NOERROR with the records of the queried type. */
  | ({ kind: 'answer' } & Records & Common)
  /**
   * Over UDP: a response with the TC (truncated) bit and no answers. Over TCP, by `tcp`:
   * `answer` (default) the full answer as for `answer`, `silent` nothing (the connection stays
   * open), `close` the connection is closed without an answer, `malformed` an answer whose name
   * is a compression pointer to itself and then the close.
   */
  | ({ kind: 'truncated'; tcp?: 'answer' | 'silent' | 'close' | 'malformed' } & Records & Common)
  /**
   * Before the real answer, a decoy response that must be ignored: `wrong-id` carries another
   * message id, `wrong-question` another query name (both answer 0.0.0.0), `malformed` is an
   * answer whose name is a compression pointer to itself.
   */
  | ({ kind: 'decoy'; decoy: 'wrong-id' | 'wrong-question' | 'malformed' } & Records & Common)
  /**
   * Only a message that does not decode, never the real answer: `compression-loop` an answer
   * whose owner name is a compression pointer to itself, `truncated` the real answer cut off in
   * the middle of its first record (without the TC bit), `short` the first 6 bytes of it.
   */
  | ({ kind: 'malformed'; malformed: MalformedKind } & Records & Common)
  /** Only forged responses (0.0.0.0) with another id or another question, never the real answer. */
  | ({ kind: 'mismatch'; mismatch: 'wrong-id' | 'wrong-question' } & Common)
  /**
   * NOERROR with the records of the queried type followed by filler A records from
   * 198.51.100.0/24 (a documentation range) up to about 64 KB, in one UDP datagram or TCP message.
   */
  | ({ kind: 'huge' } & Records & Common)
  /** This rcode and no answers. */
  | ({ kind: 'rcode'; rcode: Exclude<Rcode, 'NOERROR'> } & Common)
  /** NOERROR without any answer (NODATA). */
  | ({ kind: 'empty' } & Common)
  /** Never answers, on either transport (the client times out); TCP connections stay open. */
  | { kind: 'silent' };

export type Transport = 'udp' | 'tcp';

export const MALFORMED_KINDS = ['compression-loop', 'truncated', 'short'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** Largest message `huge` sends: what fits one UDP datagram over IPv4 (65,507 bytes), with room. */
export const HUGE_MESSAGE_BYTES = 65_000;

/** One query as the server received it. */
export interface QueryRecord {
  transport: Transport;
  /** Lower-case, without a trailing dot. */
  name: string;
  type: string;
  id: number;
}

export interface FakeDnsServerOptions {
  /** A loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** Port for both transports; default 0 (a free port chosen at start). */
  port?: number;
  /** Behaviour for names with none of their own; default NXDOMAIN. */
  defaultBehaviour?: DnsBehaviour;
  /** Keep every query in `queries` (default true); a long-running world turns it off. */
  recordQueries?: boolean;
}

const NXDOMAIN: DnsBehaviour = { kind: 'rcode', rcode: 'NXDOMAIN' };

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || (isIP(host) === 6 && ['::1', '0:0:0:0:0:0:0:1'].includes(host));
}

export class FakeDnsServer {
  /** Every query received, in order. */
  readonly queries: QueryRecord[] = [];
  readonly host: string;
  private readonly requestedPort: number;
  private readonly behaviours = new Map<string, DnsBehaviour>();
  private defaultBehaviour: DnsBehaviour;
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private boundPort = 0;
  private readonly recordQueries: boolean;

  constructor(behaviours: Record<string, DnsBehaviour> = {}, options: FakeDnsServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    if (!isLoopback(this.host)) throw new Error(`FakeDnsServer binds loopback addresses only, not ${this.host}`);
    this.requestedPort = options.port ?? 0;
    this.defaultBehaviour = options.defaultBehaviour ?? NXDOMAIN;
    this.recordQueries = options.recordQueries ?? true;
    for (const [name, b] of Object.entries(behaviours)) this.set(name, b);
  }

  /** The bound port (both transports); 0 before start(). */
  get port(): number {
    return this.boundPort;
  }

  /** "host:port" ("[::1]:port" for IPv6), as a dns target's `server` or a resolver server. */
  get address(): string {
    return isIP(this.host) === 6 ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Sets the behaviour for one name (replacing any earlier one). */
  set(name: string, behaviour: DnsBehaviour): void {
    this.behaviours.set(normalizeName(name), behaviour);
  }

  /** Sets the behaviour for names without their own. */
  setDefault(behaviour: DnsBehaviour): void {
    this.defaultBehaviour = behaviour;
  }

  /** Forgets all per-name behaviours and recorded queries; the default becomes NXDOMAIN again. */
  reset(): void {
    this.behaviours.clear();
    this.defaultBehaviour = NXDOMAIN;
    this.queries.length = 0;
  }

  /** How many queries arrived, optionally only over one transport and/or for one name. */
  count(transport?: Transport, name?: string): number {
    const n = name === undefined ? undefined : normalizeName(name);
    return this.queries.filter((q) => (transport === undefined || q.transport === transport) && (n === undefined || q.name === n)).length;
  }

  /**
   * Binds TCP and UDP on the same port. With port 0 a free TCP port is chosen first; if UDP
   * cannot get the same number, another is tried.
   */
  async start(): Promise<void> {
    if (this.tcp) throw new Error('FakeDnsServer already started');
    for (let attempt = 0; ; attempt++) {
      const tcp = await this.listenTcp(this.requestedPort);
      const port = (tcp.address() as { port: number }).port;
      try {
        this.udp = await this.bindUdp(port);
        this.tcp = tcp;
        this.boundPort = port;
        return;
      } catch (err) {
        await new Promise<void>((res) => tcp.close(() => res()));
        if (this.requestedPort !== 0 || attempt >= 10) throw err;
      }
    }
  }

  /** Stops both listeners and destroys open TCP connections. */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    await Promise.all([
      udp ? new Promise<void>((res) => udp.close(() => res())) : Promise.resolve(),
      tcp ? new Promise<void>((res) => tcp.close(() => res())) : Promise.resolve(),
    ]);
  }

  private listenTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.onTcpConnection(socket));
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private bindUdp(port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIP(this.host) === 6 ? 'udp6' : 'udp4');
      socket.once('error', (err) => {
        socket.close();
        reject(err);
      });
      socket.bind(port, this.host, () => {
        socket.removeAllListeners('error');
        // A client that went away before the answer makes send fail; nothing to do about it.
        socket.on('error', () => undefined);
        socket.on('message', (msg, rinfo) => void this.onUdpMessage(socket, msg, rinfo));
        resolve(socket);
      });
    });
  }

  private async onUdpMessage(socket: UdpSocket, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const query = this.decodeQuery(msg, 'udp');
    if (!query) return;
    const responses = await this.respond(query, 'udp');
    if (responses === 'close') return;
    for (const response of responses) {
      if (this.udp !== socket || response === 'close') return;
      socket.send(Buffer.isBuffer(response) ? response : dnsPacket.encode(response), rinfo.port, rinfo.address);
    }
  }

  private onTcpConnection(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void this.onTcpMessage(socket, message);
      }
    });
  }

  private async onTcpMessage(socket: Socket, message: Buffer): Promise<void> {
    const query = this.decodeQuery(message, 'tcp');
    if (!query) return;
    const responses = await this.respond(query, 'tcp');
    if (responses === 'close') {
      socket.destroy();
      return;
    }
    for (const response of responses) {
      if (socket.destroyed) return;
      if (response === 'close') {
        socket.end();
        return;
      }
      socket.write(Buffer.isBuffer(response) ? streamFrame(response) : dnsPacket.streamEncode(response));
    }
  }

  /** Decodes and records a query; null for garbage (ignored, like a real server would drop it). */
  private decodeQuery(message: Buffer, transport: Transport): dnsPacket.DecodedPacket | null {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return null;
    }
    const question = query.questions?.[0];
    if (query.type !== 'query' || !question) return null;
    if (this.recordQueries) this.queries.push({ transport, name: normalizeName(question.name), type: question.type, id: query.id ?? 0 });
    return query;
  }

  /**
   * The responses to send, in order (none for silence), each a packet, raw bytes or 'close' (end
   * a TCP connection after what came before), or 'close' alone to drop a TCP connection.
   */
  private async respond(query: dnsPacket.DecodedPacket, transport: Transport): Promise<(dnsPacket.Packet | Buffer | 'close')[] | 'close'> {
    const question = query.questions?.[0] as dnsPacket.Question;
    const behaviour = this.behaviours.get(normalizeName(question.name)) ?? this.defaultBehaviour;
    if (behaviour.kind === 'silent') return [];
    if (behaviour.delayMs) await sleep(behaviour.delayMs);

    const reply = (rcode: Rcode, answers: dnsPacket.Answer[], extraFlags = 0): dnsPacket.Packet => ({
      type: 'response',
      id: query.id ?? 0,
      flags: RCODES[rcode] | dnsPacket.RECURSION_AVAILABLE | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | extraFlags,
      questions: [question],
      answers,
    });

    switch (behaviour.kind) {
      case 'rcode':
        return [reply(behaviour.rcode, [])];
      case 'empty':
        return [reply('NOERROR', [])];
      case 'truncated':
        if (transport === 'udp') return [reply('NOERROR', [], dnsPacket.TRUNCATED_RESPONSE)];
        if (behaviour.tcp === 'silent') return [];
        if (behaviour.tcp === 'close') return 'close';
        if (behaviour.tcp === 'malformed') return [compressionLoop(reply('NOERROR', recordsFor(question, behaviour))), 'close'];
        return [reply('NOERROR', recordsFor(question, behaviour))];
      case 'decoy': {
        const decoy = behaviour.decoy === 'malformed' ? compressionLoop(reply('NOERROR', [])) : forged(reply('NOERROR', []), behaviour.decoy);
        return [decoy, reply('NOERROR', recordsFor(question, behaviour))];
      }
      case 'mismatch':
        return [forged(reply('NOERROR', []), behaviour.mismatch)];
      case 'malformed': {
        const real = reply('NOERROR', recordsFor(question, behaviour));
        if (behaviour.malformed === 'compression-loop') return [compressionLoop(real)];
        const bytes = dnsPacket.encode(real);
        if (behaviour.malformed === 'short') return [bytes.subarray(0, 6)];
        // Cut inside the first answer record (or, with no answers, inside the question).
        const questionEnd = dnsPacket.encode({ ...real, answers: [] }).length;
        return [bytes.subarray(0, bytes.length > questionEnd ? questionEnd + 5 : questionEnd - 3)];
      }
      case 'huge':
        return [hugeReply(reply('NOERROR', recordsFor(question, behaviour)))];
      case 'answer':
        return [reply('NOERROR', recordsFor(question, behaviour))];
    }
  }
}

/** A forged copy of `reply` answering 0.0.0.0, with another message id or another question. */
function forged(reply: dnsPacket.Packet, how: 'wrong-id' | 'wrong-question'): dnsPacket.Packet {
  const question = reply.questions?.[0] as dnsPacket.Question;
  const answers: dnsPacket.Answer[] = [{ type: 'A', name: question.name, ttl: 60, data: '0.0.0.0' }];
  return how === 'wrong-id'
    ? { ...reply, answers, id: ((reply.id ?? 0) + 1) % 65536 }
    : { ...reply, answers, questions: [{ ...question, name: `decoy.${question.name}` }] };
}

/**
 * `reply` (its question kept) with one A answer whose owner name is a compression pointer to
 * the pointer itself: a decoder that follows pointers blindly never ends.
 */
function compressionLoop(reply: dnsPacket.Packet): Buffer {
  const head = dnsPacket.encode({ ...reply, answers: [] });
  head.writeUInt16BE(1, 6); // ANCOUNT = 1
  const at = head.length;
  const record = Buffer.alloc(2 + 10 + 4);
  record.writeUInt16BE(0xc000 | at, 0); // the name: a pointer to offset `at`, i.e. to itself
  record.writeUInt16BE(1, 2); // type A
  record.writeUInt16BE(1, 4); // class IN
  record.writeUInt32BE(60, 6); // TTL
  record.writeUInt16BE(4, 10); // RDLENGTH
  Buffer.from([0, 0, 0, 0]).copy(record, 12);
  return Buffer.concat([head, record]);
}

/** `reply` with filler A records from 198.51.100.0/24 appended until it is about HUGE_MESSAGE_BYTES. */
function hugeReply(reply: dnsPacket.Packet): Buffer {
  const question = reply.questions?.[0] as dnsPacket.Question;
  const base = dnsPacket.encode(reply);
  const one = dnsPacket.encode({ ...reply, answers: [...(reply.answers ?? []), { type: 'A', name: question.name, ttl: 60, data: '198.51.100.1' }] }).length - base.length;
  const filler = Math.floor((HUGE_MESSAGE_BYTES - base.length) / one);
  const answers = [...(reply.answers ?? [])];
  for (let i = 0; i < filler; i++) answers.push({ type: 'A', name: question.name, ttl: 60, data: `198.51.100.${(i % 254) + 1}` });
  return dnsPacket.encode({ ...reply, answers });
}

/** Raw message bytes framed for DNS over TCP (2-byte length prefix). */
function streamFrame(message: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length, 0);
  return Buffer.concat([len, message]);
}

function recordsFor(question: dnsPacket.Question, records: Records): dnsPacket.Answer[] {
  const ttl = records.ttl ?? 60;
  if (question.type === 'A') return (records.A ?? []).map((data) => ({ type: 'A', name: question.name, ttl, data }));
  if (question.type === 'AAAA') return (records.AAAA ?? []).map((data) => ({ type: 'AAAA', name: question.name, ttl, data }));
  return [];
}

/** Creates and starts a FakeDnsServer in one step. */
export async function startDnsServer(
  behaviours: Record<string, DnsBehaviour> = {},
  options: FakeDnsServerOptions = {},
): Promise<FakeDnsServer> {
  const server = new FakeDnsServer(behaviours, options);
  await server.start();
  return server;
}
