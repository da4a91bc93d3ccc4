// The explorer's pages (hash routes): #/ overview (protocol totals, leaderboard, recent jobs and
// proof batches), #/host/ADDRESS, #/job/ID. Data comes only from the GraphQL API; every value
// goes into the DOM as text (never as markup), and each page refreshes itself when a
// subscription reports a change.

import { Live, query } from "./gql.js";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_SCORE = 1000;
const NEUTRAL_SCORE = 500;

// ---- DOM helpers: text only -------------------------------------------------------------

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else el.setAttribute(k, String(v));
  }
}

const hostHref = (address) => `#/host/${encodeURIComponent(address)}`;
const jobHref = (id) => `#/job/${encodeURIComponent(id)}`;

function hostLink(address) {
  return address ? h("a", { href: hostHref(address), class: "mono" }, address) : "—";
}

function jobLink(id) {
  return h("a", { href: jobHref(id) }, `#${id}`);
}

// ---- Formatting: exact, no floating point for amounts ----------------------------------

/** `value` (a decimal string of the smallest unit) in units of 10^decimals, exactly. */
function units(value, decimals = 18) {
  const v = BigInt(value);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const frac = (a % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${a / base}${frac ? `.${frac}` : ""}`;
}

const vouch = (wei) => `${units(wei)} VOUCH`;

/** A payment: ETH in ether, an ERC20 in its smallest unit with the token's address. */
function payment(token, amount) {
  return token === ZERO_ADDRESS ? `${units(amount)} ETH` : `${amount} units of ${token}`;
}

function time(t) {
  return t ? t.iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : "—";
}

function short(hex) {
  return hex ? `${hex.slice(0, 10)}…${hex.slice(-8)}` : "—";
}

const title = (s) => s.charAt(0) + s.slice(1).toLowerCase().replaceAll("_", " ");

function stateBadge(state) {
  return h("span", { class: `state state-${(state || "unknown").toLowerCase()}`, "data-field": "state" },
    state ? title(state) : "Unknown");
}

/** A definition list of [label, value, field] rows. */
function facts(rows) {
  return h("dl", { class: "facts" },
    rows.map(([label, value, field]) => [h("dt", {}, label), h("dd", { "data-field": field }, value)]));
}

function table(headers, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

function section(heading, ...body) {
  return h("section", {}, h("h2", {}, heading), ...body);
}

// ---- Charts: inline SVG ------------------------------------------------------------------

/** The score range a chart shows: the data and the neutral 500, with a margin, in 0..1000. */
function scoreRange(scores) {
  const lo = Math.max(0, Math.min(NEUTRAL_SCORE, ...scores) - 10);
  const hi = Math.min(MAX_SCORE, Math.max(NEUTRAL_SCORE, ...scores) + 10);
  return [lo, hi];
}

/** A small line of scores (oldest first), the dashed line at the neutral 500. */
function sparkline(scores) {
  const w = 120, hgt = 28;
  const [lo, hi] = scoreRange(scores);
  const y = (s) => hgt - 2 - ((s - lo) / (hi - lo)) * (hgt - 4);
  const step = scores.length > 1 ? w / (scores.length - 1) : 0;
  const points = scores.length > 1
    ? scores.map((s, i) => `${(i * step).toFixed(1)},${y(s).toFixed(1)}`).join(" ")
    : `0,${y(scores[0]).toFixed(1)} ${w},${y(scores[0]).toFixed(1)}`;
  return svg("svg", { class: "spark", viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: "img" },
    svg("title", {}, `reputation: ${scores.join(", ")}`),
    svg("line", { x1: 0, x2: w, y1: y(NEUTRAL_SCORE), y2: y(NEUTRAL_SCORE), class: "neutral" }),
    svg("polyline", { points, class: "line" }));
}

/** Score over time: each recorded change, then the decayed score now. */
function reputationChart(history, current, nowUnix) {
  const w = 640, hgt = 200, pad = 32;
  const points = history.map((r) => ({ t: r.time.unix, s: r.newScore, label: `${time(r.time)}: ${r.outcome} ${r.oldScore} → ${r.newScore}` }));
  points.push({ t: nowUnix, s: current, label: `now: ${current}` });
  const t0 = Math.min(...points.map((p) => p.t));
  const t1 = Math.max(...points.map((p) => p.t), t0 + 1);
  const [lo, hi] = scoreRange(points.map((p) => p.s));
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (w - 2 * pad);
  const y = (s) => hgt - pad - ((s - lo) / (hi - lo)) * (hgt - 2 * pad);
  const path = points.map((p) => `${x(p.t).toFixed(1)},${y(p.s).toFixed(1)}`).join(" ");
  return svg("svg", { class: "chart", viewBox: `0 0 ${w} ${hgt}`, role: "img", "data-field": "reputation-chart" },
    svg("title", {}, "reputation over time"),
    [...new Set([lo, NEUTRAL_SCORE, hi])].map((s) => [
      svg("line", { x1: pad, x2: w - pad, y1: y(s), y2: y(s), class: s === NEUTRAL_SCORE ? "neutral" : "grid" }),
      svg("text", { x: 2, y: y(s) + 4, class: "axis" }, String(s)),
    ]),
    svg("text", { x: pad, y: hgt - 8, class: "axis" }, time({ iso: new Date(t0 * 1000).toISOString() })),
    svg("text", { x: w - pad, y: hgt - 8, class: "axis end" }, "now"),
    svg("polyline", { points: path, class: "line" }),
    points.map((p) => svg("circle", { cx: x(p.t), cy: y(p.s), r: 3, class: "dot" }, svg("title", {}, p.label))));
}

// ---- Pages -------------------------------------------------------------------------------

const HOME = `query Home {
  protocol {
    jobCount registeredHosts totalStaked totalActiveStake totalUnbonding totalSlashed slashCount
    escrowed { token amount }
    jobsByState { state count }
  }
  leaderboard(first: 20) {
    totalCount
    nodes { rank percentile reputation host { address region stake { active } reputationHistory(last: 30) { nodes { newScore } } } }
  }
  jobs(first: 10) { totalCount nodes { id state renter hostAddress token payment createdAt { iso } } }
  batches(first: 10) { totalCount nodes { txHash hostAddress batchSize jobCount jobIds proofHash time { iso } } }
}`;

async function homePage(page) {
  page.title("Overview");
  page.onEvents([
    "subscription { jobCreated { jobId } }",
    "subscription { jobUpdated { jobId } }",
    "subscription { batchProven { txHash } }",
    "subscription { slashed { txHash } }",
    "subscription { reputationChanged { host } }",
  ]);
  return async () => {
    const d = await query(HOME);
    const p = d.protocol;
    return [
      h("h1", {}, "Overview"),
      h("div", { class: "cards" },
        card("Jobs", p.jobCount, "total-jobs"),
        card("Registered hosts", p.registeredHosts, "total-hosts"),
        card("Staked", vouch(p.totalStaked), "total-staked"),
        card("Slashed", `${vouch(p.totalSlashed)} in ${p.slashCount}`, "total-slashed"),
        card("Escrowed", p.escrowed.length ? p.escrowed.map((e) => payment(e.token, e.amount)).join(", ") : "nothing", "total-escrowed")),
      h("p", { class: "states", "data-field": "jobs-by-state" },
        p.jobsByState.filter((s) => s.count > 0).map((s) => h("span", { class: `state state-${s.state.toLowerCase()}` }, `${title(s.state)} ${s.count}`))),
      section(`Leaderboard (${d.leaderboard.totalCount} hosts)`,
        table(["Rank", "Host", "Region", "Reputation", "Trend", "Percentile", "Active stake"],
          d.leaderboard.nodes.map((e) => h("tr", { "data-host": e.host.address },
            h("td", {}, e.rank),
            h("td", {}, hostLink(e.host.address)),
            h("td", {}, e.host.region),
            h("td", { "data-field": "reputation" }, e.reputation),
            h("td", {}, sparkline([...e.host.reputationHistory.nodes.map((r) => r.newScore), e.reputation])),
            h("td", {}, `${e.percentile.toFixed(0)}%`),
            h("td", { "data-field": "stake" }, e.host.stake ? vouch(e.host.stake.active) : "—"))),
          "No registered hosts yet.")),
      section(`Recent jobs (${d.jobs.totalCount} in all)`, jobsTable(d.jobs.nodes, true)),
      section(`Recent proof batches (${d.batches.totalCount} in all)`,
        table(["Proof transaction", "Host", "Batch size", "Jobs", "Proof hash", "Time"],
          d.batches.nodes.map((b) => h("tr", { "data-batch": b.txHash },
            h("td", { class: "mono", title: b.txHash }, short(b.txHash)),
            h("td", {}, hostLink(b.hostAddress)),
            h("td", {}, b.batchSize),
            h("td", { "data-field": "jobs" }, b.jobIds.map((id, i) => [i ? " " : "", jobLink(id)])),
            h("td", { class: "mono", title: b.proofHash }, short(b.proofHash)),
            h("td", {}, time(b.time)))),
          "No proofs yet.")),
    ];
  };
}

function card(label, value, field) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value", "data-field": field }, value));
}

function jobsTable(jobs, withHost) {
  return table(["Job", "State", withHost ? "Host" : null, "Renter", "Payment", "Created"].filter(Boolean),
    jobs.map((j) => h("tr", { "data-job": j.id },
      h("td", {}, jobLink(j.id)),
      h("td", {}, stateBadge(j.state)),
      withHost ? h("td", {}, hostLink(j.hostAddress)) : null,
      h("td", { class: "mono" }, j.renter),
      h("td", { "data-field": "payment" }, payment(j.token, j.payment)),
      h("td", {}, time(j.createdAt)))),
    "No jobs yet.");
}

const HOST = `query Host($a: Address!) {
  host(address: $a) {
    address endpoint region pricePerToken models operator registered reputation
    registeredAt { iso } deregisteredAt { iso } lastHeartbeat { iso }
    stake { active unbonding slashedTotal withdrawnTotal releaseAt { iso } }
    jobs(first: 50) { id state renter hostAddress token payment createdAt { iso } }
    slashes { reason jobId amount beneficiary txHash time { iso } }
    reputationHistory(first: 200) { nodes { time { unix iso } oldScore newScore outcome } }
  }
  indexerStatus { blockTime { unix } }
}`;

async function hostPage(page, address) {
  page.title(`Host ${address}`);
  page.onEvents([
    ["subscription($h: String) { jobUpdated(filter: {host: $h}) { jobId } }", { h: address }],
    ["subscription($h: String) { reputationChanged(host: $h) { host } }", { h: address }],
    "subscription { slashed { host } }",
  ]);
  return async () => {
    const d = await query(HOST, { a: address });
    const x = d.host;
    if (!x) return [h("h1", {}, "Host"), h("p", { class: "empty" }, `No host ${address} is indexed.`)];
    const s = x.stake;
    const now = d.indexerStatus ? d.indexerStatus.blockTime.unix : Math.floor(Date.now() / 1000);
    return [
      h("h1", {}, "Host ", h("span", { class: "mono", "data-field": "address" }, x.address), " ",
        h("span", { class: `badge ${x.registered ? "ok" : "off"}`, "data-field": "registered" }, x.registered ? "registered" : "not registered")),
      h("div", { class: "columns" },
        section("Node", facts([
          ["Endpoint", x.endpoint, "endpoint"],
          ["Region", x.region, "region"],
          ["Price per token", `${x.pricePerToken} wei`, "price"],
          ["Operator", x.operator || "—", "operator"],
          ["Registered at", time(x.registeredAt), "registered-at"],
          ["Last heartbeat", time(x.lastHeartbeat), "heartbeat"],
          ["Reputation", String(x.reputation), "reputation"],
        ])),
        section("Stake", s ? facts([
          ["Active", vouch(s.active), "stake-active"],
          ["Unbonding", vouch(s.unbonding), "stake-unbonding"],
          ["Release at", time(s.releaseAt), "stake-release"],
          ["Slashed in all", vouch(s.slashedTotal), "stake-slashed"],
          ["Withdrawn in all", vouch(s.withdrawnTotal), "stake-withdrawn"],
        ]) : h("p", { class: "empty" }, "Never staked."))),
      section("Models", x.models.length
        ? h("ul", { class: "models mono" }, x.models.map((m) => h("li", { "data-field": "model" }, m)))
        : h("p", { class: "empty" }, "None.")),
      section("Reputation", reputationChart(x.reputationHistory.nodes, x.reputation, now),
        table(["Time", "Outcome", "Score"], x.reputationHistory.nodes.slice().reverse().map((r) => h("tr", {},
          h("td", {}, time(r.time)), h("td", {}, r.outcome), h("td", {}, `${r.oldScore} → ${r.newScore}`))),
          "No reputation changes yet: the neutral 500.")),
      section(`Jobs (newest ${x.jobs.length})`, jobsTable(x.jobs, false)),
      section(`Slashes (${x.slashes.length})`,
        table(["Time", "Reason", "Job", "Amount", "Beneficiary"],
          x.slashes.map((sl) => h("tr", { "data-slash": `${sl.txHash}` },
            h("td", {}, time(sl.time)),
            h("td", { "data-field": "reason" }, sl.reason ? title(sl.reason) : "—"),
            h("td", {}, jobLink(sl.jobId)),
            h("td", { "data-field": "amount" }, vouch(sl.amount)),
            h("td", { class: "mono" }, sl.beneficiary))),
          "Never slashed.")),
    ];
  };
}

const JOB = `query Job($id: Int!) {
  job(id: $id) {
    id state renter hostAddress offeredHost operator token payment fee modelHash inputHash outputHash
    minReputation slashed proofTx createdBlock block final
    deadline { iso } createdAt { iso } claimedAt { iso } completedAt { iso } releasedAt { iso }
    expiredAt { iso } cancelledAt { iso } refundedAt { iso }
    batch { txHash batchSize jobCount proofHash }
    dispute { status bond openedAt { iso } ruleBy { iso } resolvedAt { iso } }
  }
}`;

/** The steps of a job, in order; terminal ones end the path. */
const STEPS = [
  ["OPEN", "Created", (j) => j.createdAt],
  ["CLAIMED", "Claimed", (j) => j.claimedAt],
  ["COMPLETED", "Proven", (j) => j.completedAt],
  ["DISPUTED", "Disputed", (j) => j.dispute && j.dispute.openedAt],
  ["PAID", "Paid", (j) => j.releasedAt],
  ["EXPIRED", "Expired", (j) => j.expiredAt],
  ["CANCELLED", "Cancelled", (j) => j.cancelledAt],
  ["REFUNDED", "Refunded", (j) => j.refundedAt],
];
const HAPPY_PATH = ["OPEN", "CLAIMED", "COMPLETED", "PAID"];

async function jobPage(page, id) {
  page.title(`Job ${id}`);
  const events = []; // what the subscription reported while the page was open, newest first
  page.onEvents([[
    "subscription($id: String) { jobUpdated(filter: {jobId: $id}) { event state block txHash reverted } }",
    { id: String(id) },
    (data) => events.unshift(data.jobUpdated),
  ]]);
  return async () => {
    const d = await query(JOB, { id: Number(id) });
    const j = d.job;
    if (!j) return [h("h1", {}, `Job ${id}`), h("p", { class: "empty" }, `No job ${id} is indexed.`)];
    const reached = STEPS.filter(([, , at]) => at(j));
    const done = new Set(reached.map(([s]) => s));
    const ended = ["PAID", "EXPIRED", "CANCELLED", "REFUNDED"].includes(j.state);
    const pending = ended ? [] : HAPPY_PATH.filter((s) => !done.has(s)).map((s) => STEPS.find(([k]) => k === s));
    return [
      h("h1", {}, `Job #${j.id} `, stateBadge(j.state)),
      h("ol", { class: "timeline" },
        reached.map(([s, label, at]) => h("li", { class: `done${s === j.state ? " current" : ""}`, "data-step": s },
          h("span", { class: "step" }, label), h("span", { class: "when" }, time(at(j))))),
        pending.map(([s, label]) => h("li", { class: "pending", "data-step": s }, h("span", { class: "step" }, label), h("span", { class: "when" }, "…")))),
      h("div", { class: "columns" },
        section("Job", facts([
          ["Renter", j.renter, "renter"],
          ["Host", hostLink(j.hostAddress), "host"],
          ["Offered to", j.offeredHost || "the open market", "offered"],
          ["Payment", payment(j.token, j.payment), "payment"],
          ["Protocol fee", payment(j.token, j.fee), "fee"],
          ["Deadline", time(j.deadline), "deadline"],
          ["Minimum reputation", String(j.minReputation), "min-reputation"],
          ["Slashed", j.slashed ? "yes" : "no", "slashed"],
          ["Last change", `block ${j.block}${j.final ? " (final)" : ""}`, "block"],
        ])),
        section("Tuple and proof", facts([
          ["Model", j.modelHash, "model"],
          ["Input hash", j.inputHash, "input"],
          ["Output hash", j.outputHash || "—", "output"],
          ["Proof transaction", j.proofTx || "—", "proof-tx"],
          ["Batch", j.batch ? `${j.batch.jobCount} job(s) in a batch of ${j.batch.batchSize}, proof ${short(j.batch.proofHash)}` : "—", "batch"],
          ["Dispute", j.dispute ? `${title(j.dispute.status || "UNKNOWN")}, opened ${time(j.dispute.openedAt)}, rule by ${time(j.dispute.ruleBy)}` : "none", "dispute"],
        ]))),
      section("Live events on this page", h("div", { "data-field": "live-events" },
        table(["Event", "State", "Block", "Transaction"], events.map((e) => h("tr", { class: e.reverted ? "reverted" : "" },
          h("td", {}, e.reverted ? `${e.event} (reverted)` : e.event), h("td", {}, e.state), h("td", {}, e.block), h("td", { class: "mono" }, short(e.txHash)))),
          "None since the page opened."))),
    ];
  };
}

function notFound(page) {
  page.title("Not found");
  return async () => [h("h1", {}, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/" }, "The overview."))];
}

const ROUTES = [
  [/^#?\/?$/, homePage],
  [/^#\/host\/(0x[0-9a-fA-F]{40})$/, hostPage],
  [/^#\/job\/(\d+)$/, jobPage],
];

// ---- The shell: routing, live status, refresh on events ----------------------------------

const view = document.getElementById("view");
const liveStatus = document.getElementById("live");
const live = new Live((status) => {
  liveStatus.textContent = status;
  liveStatus.className = status === "live" ? "live" : "not-live";
});
let current = null;

/** One visit of a page: its subscriptions and its (de-duplicated) refreshes. */
class Visit {
  constructor() {
    this.unsubscribe = [];
    this.closed = false;
    this.render = null;
    this.loads = 0;
    this.timer = null;
  }

  title(text) {
    document.title = `${text} · Vouch explorer`;
  }

  /** Subscribes before the first load, so no change between load and subscribe is missed. */
  onEvents(subs) {
    for (const s of subs) {
      const [doc, vars, each] = Array.isArray(s) ? s : [s, {}, null];
      this.unsubscribe.push(live.subscribe(doc, vars, (data) => {
        if (each) each(data);
        this.refresh();
      }));
    }
  }

  /** Reloads soon; events in a burst cost one query. */
  refresh() {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, 150);
  }

  async load() {
    if (!this.render) return;
    const n = ++this.loads;
    try {
      const nodes = await this.render();
      if (this.closed || n !== this.loads) return;
      view.replaceChildren(...nodes);
      view.dataset.loaded = String(n);
    } catch (e) {
      if (this.closed || n !== this.loads) return;
      view.replaceChildren(h("p", { class: "error" }, `Cannot load this page: ${e.message}`));
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    for (const u of this.unsubscribe) u();
  }
}

async function route() {
  if (current) current.close();
  const visit = new Visit();
  current = visit;
  const hash = window.location.hash;
  let render = null;
  for (const [re, page] of ROUTES) {
    const m = hash.match(re);
    if (m) {
      render = await page(visit, ...m.slice(1));
      break;
    }
  }
  visit.render = render || notFound(visit);
  view.replaceChildren(h("p", { class: "empty" }, "Loading…"));
  await visit.load();
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = document.getElementById("search-input");
  const v = input.value.trim();
  if (/^0x[0-9a-fA-F]{40}$/.test(v)) window.location.hash = hostHref(v);
  else if (/^\d+$/.test(v)) window.location.hash = jobHref(v);
  else input.setCustomValidity("a host address (0x + 40 hex digits) or a job id");
  input.reportValidity();
});
document.getElementById("search-input").addEventListener("input", (e) => e.target.setCustomValidity(""));

window.addEventListener("hashchange", route);
route();
