/** The URL of an http or doh target, parsed once per target object and never modified. */
const parsed = new WeakMap<{ url: string }, URL>();

/** `target.url` as a URL (hops and requests build new URL objects from it). */
export function targetUrl(target: { url: string }): URL {
  let url = parsed.get(target);
  if (!url) {
    url = new URL(target.url);
    parsed.set(target, url);
  }
  return url;
}
