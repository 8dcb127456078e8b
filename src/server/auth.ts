/**
 * Bearer-token check for admin endpoints. The comparison takes the same time whatever the
 * given token is: both sides are reduced to SHA-256 digests (equal length) and compared with
 * crypto.timingSafeEqual, so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Returns a predicate over an `Authorization` header value: true only for `Bearer <token>`. */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const want = digest(token);
  return (authorization) => {
    if (authorization === undefined) return false;
    const m = /^Bearer +(.+)$/i.exec(authorization);
    // Still hash and compare on a malformed header, so it costs the same as a wrong token.
    const given = digest(m?.[1] ?? '');
    return timingSafeEqual(given, want) && m !== null;
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
