/**
 * The status page as one HTML document (docs/api.md "GET /"). Readable as it comes, without
 * JavaScript: the vantage verdict, a table of countries, the event timeline with a GET form to
 * filter it, and a table of targets. Every URL is relative (the page works under a reverse
 * proxy's sub-path) and every text is escaped (target ids and evidence come from config and the
 * network). No inline script or style: the Content-Security-Policy forbids them.
 */
import { EVENT_KINDS } from '../detect/events.js';
import { duration, esc, eventDuration, evidence, latencyRatio, outcome, percent, phases, PHASES_HEADING, utc } from './format.js';
import type { CountryRow, PageModel, TargetRow } from './model.js';

/** The chart of a country's last 24 hours, served by the chart renderer (relative URL). */
export function chartUrl(country: string): string {
  return `api/v1/charts/country/${encodeURIComponent(country)}.svg?hours=24`;
}

export function renderPage(m: PageModel): string {
  const title = `Lookout ${m.vantageId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="assets/page.css">
<script src="assets/page.js" defer></script>
</head>
<body data-refresh="${m.refreshSeconds}">
<header>
<h1>Lookout <span class="vantage-id">${esc(m.vantageId)}</span></h1>
${renderVantage(m)}
<p class="updated">As of <time datetime="${new Date(m.at).toISOString()}">${esc(utc(m.at))}</time><span id="refresh-note"></span></p>
</header>
<main>
${renderCountries(m)}
${renderCharts(m)}
${renderEvents(m)}
${renderTargets(m)}
</main>
<footer><p>Lookout status page. The same data as JSON: <a href="api/v1/status">status</a>, <a href="api/v1/events">events</a>, <a href="api/v1/series">series</a>; <a href="metrics">metrics</a>.</p></footer>
</body>
</html>
`;
}

function renderVantage(m: PageModel): string {
  const lines = m.vantage.map((v) => {
    const where = m.multiPath ? ` (path ${v.path === '' ? 'default route' : esc(v.path)})` : '';
    return `<p class="verdict v-${v.verdict}"><strong>Vantage ${v.verdict}</strong>${where}: ${esc(v.why)}</p>`;
  });
  return `<div id="vantage" aria-live="polite">${lines.join('\n') || '<p class="verdict v-starting"><strong>Vantage starting</strong>: no target yet</p>'}</div>`;
}

function renderCountries(m: PageModel): string {
  const pathHead = m.multiPath ? '<th scope="col">Path</th>' : '';
  const rows = m.countries.map((c) => countryRow(c, m.multiPath)).join('\n');
  return `<section id="countries" aria-labelledby="h-countries">
<h2 id="h-countries">Countries</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table of countries"><table>
<thead><tr>${pathHead}<th scope="col">Country</th><th scope="col">State</th><th scope="col">Reachability</th><th scope="col">Latency ratio</th><th scope="col">Blocks, % of ordinary</th><th scope="col">Targets up / eligible (dead)</th></tr></thead>
<tbody>
${rows || `<tr><td colspan="${m.multiPath ? 7 : 6}">No country has targets yet.</td></tr>`}
</tbody>
</table></div>
</section>`;
}

function countryRow(c: CountryRow, multiPath: boolean): string {
  const path = multiPath ? `<td>${esc(c.path === '' ? 'default' : c.path)}</td>` : '';
  return `<tr data-country="${esc(c.country)}">${path}<th scope="row">${esc(c.country)}</th><td class="st st-${esc(c.state)}">${esc(c.state)}</td><td>${percent(c.ratio)}</td><td>${latencyRatio(c.latency_ratio)}</td><td>-</td><td>${c.up} / ${c.eligible} (${c.dead})</td></tr>`;
}

function renderCharts(m: PageModel): string {
  const figures = m.chartCountries.map(
    (c) =>
      `<figure><img src="${esc(chartUrl(c))}" alt="${esc(`${c}: reachability per ASN and per category, and latency ratio, over the last 24 hours, with its events`)}" width="720" height="300" loading="lazy"><figcaption>${esc(c)}, last 24 hours</figcaption></figure>`,
  );
  return `<section id="charts" aria-labelledby="h-charts">
<h2 id="h-charts">Last 24 hours</h2>
${figures.join('\n') || '<p>No country to chart yet.</p>'}
</section>`;
}

function renderEvents(m: PageModel): string {
  const countryOptions = m.eventCountries.map((c) => `<option${m.filter.country === c ? ' selected' : ''}>${esc(c)}</option>`).join('');
  const kindOptions = EVENT_KINDS.map((k) => `<option${m.filter.kind === k ? ' selected' : ''}>${k}</option>`).join('');
  const rows = m.events
    .map(
      (e) =>
        `<tr class="${e.ended_at === null ? 'open' : 'closed'}" data-kind="${esc(e.kind)}" data-country="${esc(e.country ?? '')}"><td class="k-${esc(e.kind)}">${esc(e.kind)}</td><td>${esc(e.country ?? '-')}${e.asn !== null ? ` AS${e.asn}` : ''}${e.category !== null ? ` ${esc(e.category)}` : ''}${e.path !== undefined ? ` via ${esc(e.path)}` : ''}</td><td>${esc(e.mechanism ?? '-')}</td><td>${esc(utc(e.started_at))}</td><td>${esc(eventDuration(e, m.at))}</td><td>${esc(e.summary)}<br><span class="evidence">${esc(evidence(e))}</span></td></tr>`,
    )
    .join('\n');
  const problem = m.filterProblem === null ? '' : `<p class="problem" role="alert">Filter ignored: ${esc(m.filterProblem)}</p>`;
  return `<section id="events" aria-labelledby="h-events">
<h2 id="h-events">Events</h2>
<form method="get" action="" class="filter">
<label for="f-country">Country</label> <select id="f-country" name="country"><option value="">any</option>${countryOptions}</select>
<label for="f-kind">Kind</label> <select id="f-kind" name="kind"><option value="">any</option>${kindOptions}</select>
<button type="submit">Filter</button>
</form>
${problem}
<div class="scroll" id="event-list" tabindex="0" role="region" aria-label="Table of events"><table>
<thead><tr><th scope="col">Kind</th><th scope="col">Where</th><th scope="col">Mechanism</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">What and evidence</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">No event.</td></tr>'}
</tbody>
</table></div>
</section>`;
}

function renderTargets(m: PageModel): string {
  const pathHead = m.multiPath ? '<th scope="col">Path</th>' : '';
  const rows = m.targets.map((t) => targetRow(t, m.multiPath, m.at)).join('\n');
  return `<section id="targets" aria-labelledby="h-targets">
<h2 id="h-targets">Targets</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Table of targets"><table class="targets">
<thead><tr><th scope="col">Target</th>${pathHead}<th scope="col">Country</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Last result</th><th scope="col">Phases (${esc(PHASES_HEADING)})</th><th scope="col">Recent, newest first</th></tr></thead>
<tbody>
${rows || `<tr><td colspan="${m.multiPath ? 8 : 7}">No target.</td></tr>`}
</tbody>
</table></div>
</section>`;
}

function targetRow(t: TargetRow, multiPath: boolean, now: number): string {
  const last = t.recent.last;
  const path = multiPath ? `<td>${esc(t.path || 'default')}</td>` : '';
  const name = t.path ? t.id.slice(0, -(t.path.length + 1)) : t.id;
  const lastText = last
    ? `${esc(outcome(last))}, ${esc(duration(now - last.at))} ago${!last.ok && last.detail ? `<br><span class="detail">${esc(last.detail.slice(0, 160))}</span>` : ''}`
    : '-';
  const recent = t.recent.outcomes.map((ok) => (ok ? '✓' : '✗')).join('');
  return `<tr data-target="${esc(t.id)}"><th scope="row">${esc(name)}${t.control ? ' <span class="tag">control</span>' : ''}</th>${path}<td>${esc(t.country)}</td><td>${esc(t.kind)}</td><td class="st st-${esc(t.state)}">${esc(t.state)}</td><td>${lastText}</td><td>${last ? phases(last) : '-'}</td><td class="recent">${recent || '-'}</td></tr>`;
}
