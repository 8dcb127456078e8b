/**
 * The simulated world of a scenario, inside a private network namespace: addresses from the
 * address plan, a real server per target (a DNS server on port 53 for dns targets: a resolver
 * located in that country), controls, the vantage's resolver at 127.0.0.53:53 answering
 * `<target>.sim` names, and the faults of the timeline applied to all of it for real
 * (iptables rules through FaultInjector, resolver answers, server behaviour, hostile middleboxes).
 *
 * Faults stack: each target's server and resolver behaviour is recomputed from every fault
 * active on it (the longest delay, the latest blockpage or DNS answer), and each iptables
 * fault is its own set of tagged rules, so overlapping faults end independently.
 */
import type { TargetInput } from '../config/schema.js';
import { CONTROLS_CIDR, planAddresses, type AddressPlan } from './addressing.js';
import { generateWorldCert, WORLD_DOMAIN } from './certs.js';
import { FakeDnsServer, type DnsBehaviour } from './dns-server.js';
import { FaultInjector } from './faults.js';
import { dnsBehaviourFor, hostileAppliesTo, isHostileDns } from './hostile.js';
import { assertPrivateNetns } from './netns.js';
import type { Fault, Scenario, Scope, WorldKind } from './scenario.js';
import { controlId, worldTargets } from './scenario.js';
import { BLOCKPAGE_TEXT, OK_TEXT, WorldServers, type ServerBehaviour, type Service } from './servers.js';

/** The vantage's own resolver (a stub on loopback, like systemd-resolved's). */
export const RESOLVER_ADDRESS = '127.0.0.53';
export const CONTROL_COUNTRY = 'ZZ';

/** A target of the world with its address and name. */
export interface WorldTarget {
  id: string;
  kind: WorldKind;
  country: string;
  asn: number | null;
  category: string;
  control: boolean;
  /** Where its address is (differs from country/asn for a target served from abroad). */
  located: { country: string; asn: number | null };
  ip: string;
  /** `<id>.sim`, answered by the world's resolver. */
  name: string;
}

/** Lays out the world's targets (controls first) on the address plan. Pure. */
export function layoutWorld(scenario: Pick<Scenario, 'world'>): { plan: AddressPlan; targets: WorldTarget[] } {
  const plan = planAddresses(
    scenario.world.countries.map((c) => ({ code: c.code, asns: c.asns })),
    { controls: scenario.world.controls },
  );
  const controls: WorldTarget[] = plan.controls.addresses.map((ip, i) => {
    const id = controlId(i + 1);
    // Controls are dialled by address (a TLS handshake), as in probes/controls.yaml: whether the
    // vantage is online must not depend on its own resolver.
    return { id, kind: 'tls', country: CONTROL_COUNTRY, asn: null, category: 'control', control: true, located: { country: CONTROL_COUNTRY, asn: null }, ip, name: `${id}.${WORLD_DOMAIN}` };
  });
  const targets = worldTargets(scenario).map<WorldTarget>((t) => ({
    id: t.id,
    kind: t.kind,
    country: t.country,
    asn: t.asn,
    category: t.category,
    control: false,
    located: t.at,
    ip: plan.hostFor(t.at.country, t.at.asn, t.host),
    name: `${t.id}.${WORLD_DOMAIN}`,
  }));
  return { plan, targets: [...controls, ...targets] };
}

/** The daemon's config entry for a world target: how an operator would write it. */
export function daemonTarget(t: WorldTarget): TargetInput {
  const common = { id: t.id, country: t.country, category: t.category, control: t.control, ...(t.asn === null ? {} : { asn: t.asn }) };
  switch (t.kind) {
    case 'http':
    case 'https':
      return {
        ...common,
        kind: 'http',
        url: `${t.kind}://${t.name}/`,
        insecure_skip_verify: t.kind === 'https',
        expect: { status: [200, 399], body_contains: OK_TEXT, body_not_contains: BLOCKPAGE_TEXT },
      } as TargetInput;
    case 'tls':
      return { ...common, kind: 'tls', host: t.ip, port: 443, sni: t.name, insecure_skip_verify: true };
    case 'tcp':
      return { ...common, kind: 'tcp', host: t.ip, port: 443 };
    case 'dns':
      return {
        ...common,
        kind: 'dns',
        server: `${t.ip}:53`,
        query: { name: t.name, type: 'A' },
        expect: { rcode: 'NOERROR', answers_in: [`${t.ip}/32`] },
      };
  }
}

function serviceOf(kind: WorldKind): Service | null {
  return kind === 'dns' ? null : kind;
}

/** The targets a scope selects. */
export function selectTargets(targets: readonly WorldTarget[], scope: Scope, vantageCountry: string | undefined): WorldTarget[] {
  return targets.filter(
    (t) =>
      // A fault acts on addresses: a target served from abroad is hit where it is served from.
      (scope.country === undefined || t.located.country === scope.country) &&
      (scope.asn === undefined || t.located.asn === scope.asn) &&
      (scope.category === undefined || t.category === scope.category) &&
      (scope.target === undefined || t.id === scope.target) &&
      (scope.controls === undefined || t.control) &&
      (scope.international === undefined || t.located.country !== vantageCountry),
  );
}

/** A running world; see the module comment. */
export class World {
  private readonly active = new Map<string, { fault: Fault; targets: WorldTarget[] }>();
  private readonly flappers = new Map<string, { timer: NodeJS.Timeout; toggling: Promise<void> }>();

  private constructor(
    readonly plan: AddressPlan,
    readonly targets: readonly WorldTarget[],
    private readonly scenario: Scenario,
    private readonly servers: WorldServers,
    private readonly resolver: FakeDnsServer,
    private readonly injector: FaultInjector,
    /** The DNS servers of dns targets, by target id. */
    private readonly dnsServers = new Map<string, FakeDnsServer>(),
  ) {}

  /** Builds the world: checks the namespace, clears old rules, starts every server. */
  static async start(scenario: Scenario, opts: { iptables?: string } = {}): Promise<World> {
    await assertPrivateNetns();
    const injector = new FaultInjector(opts.iptables === undefined ? {} : { iptables: opts.iptables });
    await injector.clear();
    const { plan, targets } = layoutWorld(scenario);
    const servers = new WorldServers(await generateWorldCert());
    const resolver = new FakeDnsServer({}, { host: RESOLVER_ADDRESS, port: 53, recordQueries: false });
    const world = new World(plan, targets, scenario, servers, resolver, injector);
    try {
      for (const t of targets) {
        resolver.set(t.name, { kind: 'answer', A: [t.ip] });
        const service = serviceOf(t.kind);
        if (service !== null) {
          await servers.add(t.id, t.ip, service);
        } else {
          const dns = new FakeDnsServer({ [t.name]: { kind: 'answer', A: [t.ip] } }, { host: t.ip, port: 53, recordQueries: false });
          world.dnsServers.set(t.id, dns);
          await dns.start();
        }
      }
      await resolver.start();
    } catch (err) {
      await world.close();
      throw err;
    }
    return world;
  }

  /** The targets a fault hits (every world address for vantage_cut). */
  targetsOf(fault: Fault): WorldTarget[] {
    return 'scope' in fault ? selectTargets(this.targets, fault.scope, this.scenario.vantage.country) : [...this.targets];
  }

  /** Applies a fault; resolves once every rule and behaviour is in place. */
  async apply(fault: Fault): Promise<void> {
    if (this.active.has(fault.id)) throw new Error(`fault ${fault.id} is already active`);
    const targets = this.targetsOf(fault);
    this.active.set(fault.id, { fault, targets });
    const each = async (add: (id: string, t: WorldTarget) => Promise<void>): Promise<void> => {
      for (const [k, t] of targets.entries()) await add(ruleId(fault.id, k), t);
    };
    switch (fault.fault) {
      case 'blackhole':
      case 'dead':
        await each((id, t) => this.injector.blackhole(id, `${t.ip}/32`));
        break;
      case 'reset':
        await each((id, t) => this.injector.reset(id, `${t.ip}/32`));
        break;
      case 'unreachable':
        await each((id, t) => this.injector.unreachable(id, `${t.ip}/32`));
        break;
      case 'sni_filter':
        await each((id, t) => this.injector.sniFilter(id, `${t.ip}/32`, t.name));
        break;
      case 'throttle':
        if (fault.syn_loss !== undefined) {
          const p = fault.syn_loss;
          await each((id, t) => this.injector.loss(id, `${t.ip}/32`, p));
        }
        break;
      case 'vantage_cut':
        await this.injector.blackhole(ruleId(fault.id, 0), CONTROLS_CIDR);
        for (const [k, c] of this.scenario.world.countries.entries()) {
          await this.injector.blackhole(ruleId(fault.id, k + 1), this.plan.countryCidr(c.code));
        }
        await this.injector.blackhole(ruleId(fault.id, this.scenario.world.countries.length + 1), `${RESOLVER_ADDRESS}/32`);
        break;
      case 'flapping': {
        let down = false;
        const toggle = async (): Promise<void> => {
          down = !down;
          if (down) await each((id, t) => this.injector.blackhole(id, `${t.ip}/32`));
          else await this.removeRules(fault.id, targets.length);
        };
        await toggle();
        const flapper = {
          toggling: Promise.resolve(),
          timer: setInterval(() => {
            flapper.toggling = flapper.toggling.then(toggle).catch(() => undefined);
          }, fault.period / 2),
        };
        this.flappers.set(fault.id, flapper);
        break;
      }
      default:
        break;
    }
    this.recompute(targets);
  }

  /** Removes a fault applied earlier; removing an inactive fault does nothing. */
  async remove(id: string): Promise<void> {
    const entry = this.active.get(id);
    if (!entry) return;
    this.active.delete(id);
    const flapper = this.flappers.get(id);
    if (flapper) {
      clearInterval(flapper.timer);
      this.flappers.delete(id);
      await flapper.toggling;
    }
    const rules = entry.fault.fault === 'vantage_cut' ? this.scenario.world.countries.length + 2 : entry.targets.length;
    await this.removeRules(id, rules);
    this.recompute(entry.targets);
  }

  /** Stops flapping, removes every fault and closes every server. Never rejects. */
  async close(): Promise<void> {
    for (const f of this.flappers.values()) clearInterval(f.timer);
    await Promise.all([...this.flappers.values()].map((f) => f.toggling));
    this.flappers.clear();
    this.active.clear();
    await this.injector.clear().catch(() => 0);
    await Promise.all([this.servers.close(), this.resolver.close(), ...[...this.dnsServers.values()].map((d) => d.close())]);
  }

  private async removeRules(faultId: string, count: number): Promise<void> {
    const ids = new Set(this.injector.active());
    for (let k = 0; k < count; k++) {
      const id = ruleId(faultId, k);
      if (ids.has(id)) await this.injector.remove(id);
    }
  }

  /** Recomputes server and resolver behaviour of `targets` from every active fault. */
  private recompute(targets: readonly WorldTarget[]): void {
    for (const t of targets) {
      const behaviour: ServerBehaviour = { delayMs: 0, blockpage: null, hostile: null };
      let dns: DnsBehaviour = { kind: 'answer', A: [t.ip] };
      for (const { fault, targets: hit } of this.active.values()) {
        if (!hit.includes(t)) continue;
        if (fault.fault === 'throttle' || fault.fault === 'slow') behaviour.delayMs = Math.max(behaviour.delayMs, fault.delay);
        if (fault.fault === 'blockpage') behaviour.blockpage = fault.status;
        if (fault.fault === 'dns_nxdomain') dns = { kind: 'rcode', rcode: 'NXDOMAIN' };
        if (fault.fault === 'dns_bogon') dns = { kind: 'answer', A: [fault.answer] };
        if (fault.fault === 'hostile' && hostileAppliesTo(fault.behaviour, t.kind)) {
          if (isHostileDns(fault.behaviour)) dns = dnsBehaviourFor(fault.behaviour, [t.ip]);
          else behaviour.hostile = fault.behaviour;
        }
      }
      if (serviceOf(t.kind) !== null) this.servers.set(t.id, behaviour);
      // A tampering resolver on the path: the vantage's resolver and the target's own answer alike.
      this.resolver.set(t.name, dns);
      this.dnsServers.get(t.id)?.set(t.name, dns);
    }
  }
}

/** The FaultInjector id of the k-th rule of a fault. */
function ruleId(faultId: string, k: number): string {
  return `${faultId}-${k}`;
}
