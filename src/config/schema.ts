/**
 * The configuration contract (docs/design.md "Config"). Every object is strict: an unknown key is an
 * error naming its path. Durations are strings in the file and milliseconds after parsing.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { Duration } from './duration.js';
import { BlocksConfig, type BlocksConfig as BlocksResolved } from './blocks-schema.js';
import { countryCodeProblem } from './country.js';
import { cronProblems, isTimeZone } from '../windows/cron.js';

export const TARGET_KINDS = ['http', 'tcp', 'tls', 'dns', 'dot', 'doh', 'icmp'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** A duration string parsed into milliseconds (defined beside parseDuration). */
export { Duration };

const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit')
  .max(128);
const CountryCode = z.string().superRefine((code, ctx) => {
  const problem = countryCodeProblem(code);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
const Asn = z.number().int().min(0).max(4_294_967_295);
const Port = z.number().int().min(1).max(65535);
const Host = z.string().min(1).max(253).regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or an IP address');

/** "host:port" or "[v6]:port". */
export const HostPort = z.string().refine((s) => splitHostPort(s) !== null, {
  message: 'must be host:port (use [addr]:port for IPv6)',
});

/** Splits "host:port" / "[v6]:port"; null when malformed. */
export function splitHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] as string;
  if (s.startsWith('[') && isIP(host) !== 6) return null;
  return { host, port };
}

/** "a.b.c.d/len" or "v6/len". */
export const Cidr = z.string().refine(
  (s) => {
    const [addr, len, extra] = s.split('/');
    if (addr === undefined || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) return false;
    const family = isIP(addr);
    return family !== 0 && Number(len) <= (family === 4 ? 32 : 128);
  },
  { message: 'must be a CIDR such as 192.0.2.0/24' },
);

/** Inclusive status range: [200, 399], or a single code. */
const StatusRange = z.union([
  z.number().int().min(100).max(599).transform((n) => [n, n] as [number, number]),
  z
    .tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])
    .refine(([lo, hi]) => lo <= hi, 'status range must be [low, high] with low <= high'),
]);

/**
 * A path label: the name of a source binding (metric label `path`, events' `path`). Bounded by
 * the config: one per distinct source.
 */
const PathName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/, 'must be letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit')
  .max(64);

/** A Linux interface name (IFNAMSIZ - 1 characters at most). */
const InterfaceName = z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be an interface name such as eth1 (at most 15 characters)');

/**
 * Where probes leave from: a local `address` or an `interface` (exactly one), and `name`, the
 * path label (default: the address or the interface). See src/probers/source.ts for how it is
 * applied when dialling.
 */
export const SourceBinding = z
  .strictObject({
    address: z.string().refine((s) => isIP(s) !== 0, 'must be an IP address').optional(),
    interface: InterfaceName.optional(),
    name: PathName.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.address !== undefined && s.interface !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['interface'], message: 'set either address or interface, not both' });
    } else if (s.address === undefined && s.interface === undefined) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'required: set address (a local IP) or interface (such as eth1)' });
    }
  })
  .transform((s): SourceBinding => {
    const name = s.name ?? s.address ?? s.interface ?? '';
    return s.address !== undefined ? { name, address: s.address } : { name, interface: s.interface ?? '' };
  });
/** A validated source binding: `name` is always set, and exactly one of address or interface. */
export type SourceBinding = { name: string; address: string; interface?: undefined } | { name: string; interface: string; address?: undefined };

/** Fields every target has, before catalog defaults are applied. */
const TargetCommon = {
  id: Slug,
  country: CountryCode.optional(),
  asn: Asn.optional(),
  category: Slug.optional(),
  /** A control target: its failure means the vantage itself is offline. */
  control: z.boolean().default(false),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  /**
   * Absent or `check`: the default. `ignore`: the location check still reports where the target answers from, but a mismatch
   * does not take it out of its country's verdicts (for a target known to be served from abroad).
   */
  geo: z.enum(['check', 'ignore']).optional(),
  /** Probe through this source (overrides the catalog's); absent: the default route, path "". */
  source: SourceBinding.optional(),
};

export const HttpTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD']).default('GET'),
  /** Host header override; the URL's host is still what is dialled. */
  host: Host.optional(),
  /** TLS server name override for https. */
  sni: Host.optional(),
  /** Dial this address instead of resolving the URL's host (dns phase skipped). */
  ip: z.string().refine((s) => isIP(s) !== 0, 'must be an IP address').optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string()).default({}),
  insecure_skip_verify: z.boolean().default(false),
  follow_redirects: z.boolean().default(false),
  /** Maximum number of body bytes read; the rest is discarded unread. */
  body_limit: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024),
  expect: z
    .strictObject({
      status: StatusRange.default([200, 399]),
      body_contains: z.string().min(1).optional(),
      /** Text of a known blockpage: finding it means http_blockpage. */
      body_not_contains: z.string().min(1).optional(),
    })
    .prefault({}),
});

export const TcpTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('tcp'),
  host: Host,
  port: Port,
});

export const TlsTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('tls'),
  host: Host,
  port: Port.default(443),
  sni: Host.optional(),
  insecure_skip_verify: z.boolean().default(false),
});

export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SOA'] as const;
export const DNS_RCODES = ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'] as const;

/** The question of a dns, dot or doh target. */
const DnsQuery = z.strictObject({
  name: Host,
  type: z.enum(DNS_TYPES).default('A'),
});

/** What a dns, dot or doh answer must look like. */
const DnsExpect = z
  .strictObject({
    rcode: z.enum(DNS_RCODES).default('NOERROR'),
    /** When set, every A/AAAA answer must fall in one of these ranges. */
    answers_in: z.array(Cidr).optional(),
  })
  .prefault({});

export const DnsTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('dns'),
  server: HostPort,
  query: DnsQuery,
  expect: DnsExpect,
});

/** DNS over TLS (RFC 7858): one query on a TLS connection to `server` (port 853 by convention). */
export const DotTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('dot'),
  server: HostPort,
  /** TLS server name; default the server's host when it is a name (an IP literal sends none). */
  sni: Host.optional(),
  insecure_skip_verify: z.boolean().default(false),
  query: DnsQuery,
  expect: DnsExpect,
});

/** DNS over HTTPS (RFC 8484): one query to `url` (https only) as an application/dns-message. */
export const DohTarget = z.strictObject({
  ...TargetCommon,
  kind: z.literal('doh'),
  url: z.url({ protocol: /^https$/, error: 'must be an https:// URL such as https://dns.example/dns-query' }),
  /**
   * POST (default): the query in the body, never answered from an HTTP cache, so every probe
   * reaches the server. GET: the query as ?dns=<base64url>, as cache-friendly clients send it.
   */
  method: z.enum(['GET', 'POST']).default('POST'),
  /** Dial this address instead of resolving the URL's host (no bootstrap lookup). */
  ip: z.string().refine((s) => isIP(s) !== 0, 'must be an IP address').optional(),
  insecure_skip_verify: z.boolean().default(false),
  query: DnsQuery,
  expect: DnsExpect,
});

/** Most addresses one icmp block may list. */
export const ICMP_MAX_HOSTS = 256;

/**
 * ICMP echo to one host, or to a block of hosts that is up when any of them answers (the
 * Trinocular way of judging a /24). Exactly one of `host` and `hosts`.
 */
export const IcmpTarget = z
  .strictObject({
    ...TargetCommon,
    kind: z.literal('icmp'),
    host: Host.optional(),
    hosts: z.array(Host).min(1, 'must list at least one host').max(ICMP_MAX_HOSTS).optional(),
  })
  .refine((t) => (t.host === undefined) !== (t.hosts === undefined), {
    message: 'an icmp target needs exactly one of host or hosts',
    path: ['host'],
  });

export const TargetInput = z.discriminatedUnion('kind', [HttpTarget, TcpTarget, TlsTarget, DnsTarget, DotTarget, DohTarget, IcmpTarget], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `kind must be one of ${TARGET_KINDS.join(', ')}` : undefined,
});
export type TargetInput = z.output<typeof TargetInput>;

/** A catalog file: defaults for its targets, then the targets. */
export const CatalogFile = z.strictObject({
  country: CountryCode.optional(),
  asn: Asn.optional(),
  category: Slug.optional(),
  control: z.boolean().optional(),
  /** Default source binding of the catalog's targets (a catalog entry's `sources` override it). */
  source: SourceBinding.optional(),
  targets: z.array(TargetInput).default([]),
});
export type CatalogFile = z.output<typeof CatalogFile>;

/**
 * A catalog glob probed through each of several sources: every target of the matched files is
 * probed once per source (its own `source`, when it sets one, wins). The same file may be listed
 * in several entries.
 */
export const CatalogEntry = z.strictObject({
  file: z.string().min(1),
  sources: z.array(SourceBinding).min(1),
});
export type CatalogEntry = z.output<typeof CatalogEntry>;

export const DetectionConfig = z.strictObject({
  down_after: z.number().int().min(1).default(2),
  up_after: z.number().int().min(1).default(2),
  baseline_window: Duration.default(21_600_000),
  shutdown_ratio: z.number().gt(0).max(1).default(0.7),
  shutdown_min_targets: z.number().int().min(1).default(3),
  partial_ratio: z.number().gt(0).max(1).default(0.7),
  partial_min_targets: z.number().int().min(1).default(2),
  degradation_latency_ratio: z.number().gt(1).default(3),
  vantage_offline_ratio: z.number().gt(0).max(1).default(0.5),
  open_after: z.number().int().min(1).default(2),
  close_after: z.number().int().min(1).default(2),
  evaluate_every: Duration.default(5_000),
});

const BYTE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 };

/** A byte size: a whole number of bytes, or a string such as 512KiB, 256MiB, 2GiB (KB/MB/GB are powers of 1000). */
export const ByteSize = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/.exec(v.trim());
  const bytes = m ? Math.floor(Number(m[1]) * (BYTE_UNITS[m[2] ?? ''] as number)) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `invalid size "${v}": use bytes or a number with KiB, MiB or GiB (256MiB)` });
    return z.NEVER;
  }
  return bytes;
});

/** Default disk budget of one remote's queue. */
export const REMOTE_WRITE_DEFAULT_MAX_BYTES = 256 * 1024 ** 2;
/** The smallest queue budget accepted: a few segments' worth. */
export const REMOTE_WRITE_MIN_MAX_BYTES = 64 * 1024;

/**
 * One remote write destination (docs: README "remote_write"), shaped like Prometheus' own.
 * Secrets come from files (bearer_token_file, basic_auth.password_file) read when the sender
 * starts; they are never logged and never in the API.
 */
export const RemoteWriteConfig = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    name: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1-32 lower-case letters, digits, "_" or "-"')
      .optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string()).default({}),
    bearer_token_file: z.string().min(1).optional(),
    basic_auth: z
      .strictObject({
        username: z.string().min(1),
        password: z.string().optional(),
        password_file: z.string().min(1).optional(),
      })
      .refine((b) => (b.password === undefined) !== (b.password_file === undefined), 'set exactly one of password and password_file')
      .optional(),
    tls: z
      .strictObject({
        ca_file: z.string().min(1).optional(),
        insecure_skip_verify: z.boolean().default(false),
      })
      .optional(),
    queue: z
      .strictObject({
        max_bytes: ByteSize.default(REMOTE_WRITE_DEFAULT_MAX_BYTES).refine((n) => n >= REMOTE_WRITE_MIN_MAX_BYTES, 'must be at least 64KiB'),
        batch_samples: z.number().int().min(1).max(100_000).default(5000),
        send_interval: Duration.default(5_000),
      })
      .prefault({}),
  })
  .refine((r) => !(r.bearer_token_file !== undefined && r.basic_auth !== undefined), 'set at most one of bearer_token_file and basic_auth');
export type RemoteWriteInput = z.output<typeof RemoteWriteConfig>;

/** A remote after defaults: its name is always set (rw0, rw1, … by position when not given). */
export type RemoteWriteResolved = RemoteWriteInput & { name: string };

/** The remote_write list: names default to rw<position> and must be unique. */
export const RemoteWriteList = z
  .array(RemoteWriteConfig)
  .default([])
  .transform((list, ctx): RemoteWriteResolved[] => {
    const out = list.map((r, i) => ({ ...r, name: r.name ?? `rw${i}` }));
    const seen = new Set<string>();
    out.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate remote_write name "${r.name}"` });
      seen.add(r.name);
    });
    return out;
  });

export const WINDOW_KINDS = ['watch', 'expected', 'maintenance'] as const;
export const WINDOW_REASONS = ['exam', 'election', 'other'] as const;
/** The longest window: an occurrence under way is found by walking back this far at most. */
export const WINDOW_MAX_DURATION_MS = 7 * 24 * 3600 * 1000;

/**
 * A window on a timetable (issue 25): node-cron validates `cron` (its own field-by-field
 * messages) in `timezone`. `watch` needs `interval`; `reason` and `source` describe an
 * `expected` cut.
 */
export const WindowConfig = z
  .strictObject({
    name: Slug,
    cron: z.string().min(1),
    duration: Duration.refine((ms) => ms <= WINDOW_MAX_DURATION_MS, 'must be at most 7 days (168h)'),
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Baghdad or UTC').default('UTC'),
    countries: z.array(CountryCode).default([]),
    kind: z.enum(WINDOW_KINDS),
    interval: Duration.optional(),
    reason: z.enum(WINDOW_REASONS).optional(),
    source: z.url().optional(),
  })
  .superRefine((w, ctx) => {
    for (const problem of cronProblems(w.cron)) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: `window "${w.name}": ${problem}` });
    }
    if (w.kind === 'watch' && w.interval === undefined) ctx.addIssue({ code: 'custom', path: ['interval'], message: `window "${w.name}": a watch window needs an interval` });
    if (w.kind !== 'watch' && w.interval !== undefined) ctx.addIssue({ code: 'custom', path: ['interval'], message: `window "${w.name}": only a watch window has an interval` });
    if (w.kind !== 'expected' && (w.reason !== undefined || w.source !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [w.reason !== undefined ? 'reason' : 'source'], message: `window "${w.name}": only an expected window has a reason and a source` });
    }
  });
export type WindowConfig = z.output<typeof WindowConfig>;

/** The windows list: names are unique. */
export const WindowList = z
  .array(WindowConfig)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((w, i) => {
      if (seen.has(w.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate window name "${w.name}"` });
      seen.add(w.name);
    });
  });

export const ConfigFile = z.strictObject({
  vantage: z.strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, ".", "_" or "-"').max(64),
    country: CountryCode.optional(),
    asn: Asn.optional(),
  }),
  server: z
    .strictObject({
      listen: HostPort.default('0.0.0.0:9464'),
      admin_token: z.string().min(16, 'must be at least 16 characters').nullable().default(null),
    })
    .prefault({}),
  storage: z
    .strictObject({
      dir: z.string().min(1).default('./data'),
      record_results: z.boolean().default(false),
    })
    .prefault({}),
  schedule: z
    .strictObject({
      interval: Duration.default(60_000),
      timeout: Duration.default(10_000),
      concurrency: z.number().int().min(1).max(100_000).default(256),
      confirm_delay: Duration.default(5_000),
      /**
       * Adaptive probing of a failing group (issue 26, src/scheduler/adaptive.ts). Off by
       * default until it meets its onset goal (issue 26, bench/RESULTS.md).
       */
      adaptive: z
        .strictObject({
          enabled: z.boolean().default(false),
          max_per_second: z.number().int().min(1).max(100_000).default(20),
          group_budget: z.number().int().min(1).max(100_000).default(32),
        })
        .prefault({}),
    })
    .prefault({}),
  resolver: z
    .strictObject({
      servers: z.array(HostPort).min(1),
    })
    .optional(),
  /**
   * Offline location databases (MMDB files), relative to the config file. Absent: the shipped
   * country database, no ASN check; null: that check off.
   */
  geo: z
    .strictObject({
      country_db: z.string().min(1).nullable().optional(),
      asn_db: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  detection: DetectionConfig.prefault({}),
  /** Durable remote write of Lookout's own series (issue 12); empty: off. */
  remote_write: RemoteWriteList,
  /** Probing every responsive /24 of chosen countries and ASes (issue 23, docs/blocks.md); absent: off. */
  blocks: BlocksConfig,
  /** Windows on a timetable: watch, expected, maintenance (issue 25); empty: none. */
  windows: WindowList,
  catalogs: z.array(z.union([z.string().min(1), CatalogEntry])).default([]),
  targets: z.array(TargetInput).default([]),
});
export type ConfigFile = z.output<typeof ConfigFile>;

type WithoutSource<T> = T extends unknown ? Omit<T, 'source'> : never;

/**
 * A target after catalog defaults are applied: country and category are always known. A target
 * probed through a source binding has `bind` and `path` (the binding's name), and its `id` is
 * `<configured id>@<path>`, unique per path (targetName() gives the configured id back); an
 * unbound target has neither, and its id as configured (path "").
 */
export type ResolvedTarget = WithoutSource<TargetInput> & {
  country: string;
  category: string;
  /** The file the target was defined in: "file.yaml" (catalog) or "config.yaml" (inline), for messages. */
  file: string;
  /** The source binding probes of this target leave from; absent: the default route. */
  bind?: SourceBinding;
  /** The path label: bind.name, absent (meaning "") when unbound. */
  path?: string;
};

/** The path label of a target: its binding's name, "" when unbound. */
export function targetPath(t: { path?: string }): string {
  return t.path ?? '';
}

/** The id as configured (without the `@path` suffix of a bound target). */
export function targetName(t: { id: string; path?: string }): string {
  return t.path ? t.id.slice(0, t.id.length - t.path.length - 1) : t.id;
}

/** The id of a target probed on `path` ("" for the default route). */
export function pathTargetId(id: string, path: string): string {
  return path === '' ? id : `${id}@${path}`;
}
export type HttpResolved = Extract<ResolvedTarget, { kind: 'http' }>;
export type TcpResolved = Extract<ResolvedTarget, { kind: 'tcp' }>;
export type TlsResolved = Extract<ResolvedTarget, { kind: 'tls' }>;
export type DnsResolved = Extract<ResolvedTarget, { kind: 'dns' }>;
export type DotResolved = Extract<ResolvedTarget, { kind: 'dot' }>;
export type DohResolved = Extract<ResolvedTarget, { kind: 'doh' }>;
export type IcmpResolved = Extract<ResolvedTarget, { kind: 'icmp' }>;

/** The validated, fully resolved configuration the daemon runs on. */
export interface Config extends Omit<ConfigFile, 'targets' | 'catalogs' | 'blocks'> {
  /** The blocks: section with its paths and shard index resolved (load.ts). */
  blocks: BlocksResolved | undefined;
  /** Absolute path of the config file it came from. */
  file: string;
  /** storage.dir resolved against the config file's directory. */
  storageDir: string;
  /** Catalog globs as written (an entry with sources by its `file`), for display. */
  catalogs: string[];
  targets: ResolvedTarget[];
}
