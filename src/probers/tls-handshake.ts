/**
 * The client TLS handshake of the tls, https, dot and doh probers, over a connected socket and
 * within the probe's deadline, with shared secure contexts; and the certificate expiry read
 * from the peer's leaf certificate.
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { abortable, type Deadline } from './deadline.js';
import { destroyQuietly } from './dial.js';

/** TLS trust settings the probers accept (the default is the system's trust store). */
export interface TrustOptions {
  /** CA certificates (PEM) to trust instead of the built-in roots; for tests and private PKI. */
  ca?: string | string[];
}

export interface HandshakeOptions extends TrustOptions {
  /** SNI; omitted when undefined. */
  servername: string | undefined;
  /** Verify the chain and the host name (against servername, else `verifyHost`). */
  verify: boolean;
  /** The name the certificate must match when there is no servername (an IP literal). */
  verifyHost: string;
  alpn?: string[];
}

/**
 * Client TLS contexts by trusted CA (the empty key: the system's roots). tls.connect would
 * otherwise build a SecureContext per connection, a quarter of a DoT probe's CPU. A shared
 * context resumes no session (Node's contexts keep no internal session cache; a client resumes
 * only when handed a session), so every probe still does a full handshake; SNI, ALPN and the
 * verification settings are per connection.
 */
const contexts = new Map<string, SecureContext>();
/** Distinct CA sets kept at most (tests make one per run; the daemon uses one). */
const MAX_CONTEXTS = 16;

function clientContext(ca: string | string[] | undefined): SecureContext {
  const key = ca === undefined ? '' : Array.isArray(ca) ? ca.join('\n') : ca;
  let context = contexts.get(key);
  if (!context) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = createSecureContext(ca === undefined ? {} : { ca });
    contexts.set(key, context);
  }
  return context;
}

/**
 * Runs a TLS handshake over the connected `socket`. Rejects with the handshake error (a
 * certificate that fails verification included) or the deadline's reason; on failure both
 * sockets are destroyed.
 */
export function handshakeTls(socket: Socket, opts: HandshakeOptions, deadline: Deadline): Promise<TLSSocket> {
  let tls: TLSSocket | undefined;
  return abortable<TLSSocket>(
    deadline,
    (resolve, reject) => {
      const t = tlsConnect({
        socket,
        // An empty servername would still be sent as SNI by some versions; leave it out.
        ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
        host: opts.servername ?? opts.verifyHost,
        rejectUnauthorized: opts.verify,
        secureContext: clientContext(opts.ca),
        ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      });
      tls = t;
      const onError = (err: Error): void => reject(err);
      t.once('error', onError);
      t.once('secureConnect', () => {
        t.removeListener('error', onError);
        resolve(t);
      });
    },
    () => {
      destroyQuietly(tls);
      destroyQuietly(socket);
    },
  );
}

/** The leaf certificate's notAfter in epoch seconds, when the peer sent one. */
export function certExpiry(socket: TLSSocket): number | undefined {
  // The X509Certificate rather than getPeerCertificate(), which renders every field of the
  // certificate into an object (a tenth of a DoT probe's CPU) for the one date used here.
  const cert = socket.getPeerX509Certificate();
  const ms = cert ? Date.parse(cert.validTo) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}
