/**
 * The simulated world's TLS identity, generated at start (no openssl binary needed): one
 * self-signed EC P-256 certificate for `*.sim`, the suffix every world target's name ends in.
 * World targets are probed with insecure_skip_verify, so interference is judged by resets,
 * alerts and timeouts, never by the certificate.
 */
import { generate } from 'selfsigned';

export const WORLD_DOMAIN = 'sim';

export interface WorldCert {
  key: string;
  cert: string;
}

/** Generates a fresh certificate valid from a day ago for 30 days. */
export async function generateWorldCert(now = new Date()): Promise<WorldCert> {
  const day = 86_400_000;
  const pems = await generate([{ name: 'commonName', value: `*.${WORLD_DOMAIN}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - day),
    notAfterDate: new Date(now.getTime() + 30 * day),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: `*.${WORLD_DOMAIN}` }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
