// What the serve benches share: the servers' bodies and answers, the requests, one run of
// autocannon and the summary of several.
import autocannon from "autocannon";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./util.js";

const root = join(import.meta.dirname, "..");
const VSTS_SECRET = "demo-vsts-secret-change-me";

/** Reads the whole body, then calls done with its chunks. */
export function onBody(req, done) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => done(chunks));
}

export function answerOk(res) {
  const text = '{"ok":true}';
  res.writeHead(200, { "content-type": "application/json", "content-length": text.length });
  res.end(text);
}

/**
 * Each request a distinct notification (fresh notificationId, so none is a redelivery) that
 * reassigns BACKEND-1 of the demo store back and forth: every one is applied, writing the
 * delivery row, the issue and an activity row in one transaction, durable before the answer.
 * One array for every autocannon instance of a run: their notificationIds never meet.
 */
export function vstsRequests() {
  const template = readFileSync(join(root, "test", "fixtures", "vsts-workitem-updated.json"), "utf8");
  const assignees = ["Chuck Reinhart <fabrikamfiber3@hotmail.com>", "Jamal Hartnett <fabrikamfiber4@hotmail.com>"];
  const bodies = assignees.map((to) => {
    const p = JSON.parse(template);
    p.notificationId = 0;
    p.resource.fields["System.AssignedTo"] = { newValue: to };
    return JSON.stringify(p).split('"notificationId":0');
  });
  let n = 0;
  return [
    {
      method: "POST",
      path: "/hooks/vsts",
      headers: { "content-type": "application/json; charset=utf-8", "shared-secret": VSTS_SECRET },
      setupRequest: (req) => {
        n++;
        const [head, tail] = bodies[n % 2];
        return { ...req, body: `${head}"notificationId":${n}${tail}` };
      },
    },
  ];
}

/**
 * Requests spread over many work items, as a team's trackers send them: each a distinct
 * notification moving one of `workItems` work items of the bench dataset (workload.js, its VSTS
 * links are 1000, 1002, ...) to Active or Resolved, at a revision newer than any before, so every
 * one is applied. Deliveries for one work item take turns on PostgreSQL (an advisory lock per
 * external issue); the demo's one work item would measure that queue, not the receiver.
 */
export function vstsSpreadRequests(workItems, secret) {
  const p = JSON.parse(readFileSync(join(root, "test", "fixtures", "vsts-workitem-updated.json"), "utf8"));
  p.notificationId = 0;
  p.resource.workItemId = 0;
  p.resource.rev = 0;
  p.resource.fields = { "System.State": { oldValue: "New", newValue: "STATE" } };
  const [a, b, c, d] = JSON.stringify(p).split(/"notificationId":0|"workItemId":0|"STATE"/);
  let n = 0;
  return [
    {
      method: "POST",
      path: "/hooks/vsts",
      headers: { "content-type": "application/json; charset=utf-8", "shared-secret": secret },
      setupRequest: (req) => {
        n++;
        const item = 1000 + 2 * (n % workItems);
        const body = `${a}"notificationId":${n}${b}"workItemId":${item}${c}"${Math.floor(n / workItems) % 2 ? "Active" : "Resolved"}"${d}`.replace('"rev":0', `"rev":${n + 1}`);
        return { ...req, body };
      },
    },
  ];
}

const TICK_US = 1e6 / (Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100);

/** CPU time (user + system, microseconds) a process of this machine has spent so far; undefined off Linux. */
export function cpuOfPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3, state
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/**
 * One run of autocannon; with cpu (the servers' CPU time so far, in microseconds), also the CPU
 * time the servers spent per request, which a machine busy with other work disturbs far less
 * than requests per second.
 */
export async function load(url, requests, seconds, connections, cpu) {
  const before = await cpu?.();
  const result = await autocannon({ url, requests, duration: seconds, connections, pipelining: 1 });
  const after = await cpu?.();
  return before === undefined || after === undefined ? result : { ...result, cpuUsPerRequest: (after - before) / Math.max(1, result.requests.total) };
}

/**
 * Runs of autocannon on several servers at once, as one run: requests summed, the worse of their
 * latencies, the servers' CPU time together per request.
 */
export async function loadTogether(urls, requests, seconds, connections, cpu) {
  const before = await cpu?.();
  const results = await Promise.all(urls.map((url) => load(url, requests, seconds, connections)));
  const after = await cpu?.();
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const total = sum((r) => r.requests.total);
  return {
    requests: { average: sum((r) => r.requests.average), total },
    latency: { p50: Math.max(...results.map((r) => r.latency.p50)), p99: Math.max(...results.map((r) => r.latency.p99)) },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    ...(before === undefined || after === undefined ? {} : { cpuUsPerRequest: (after - before) / Math.max(1, total) }),
  };
}

/** The median run of several, by requests per second; its latency and counts come with it. */
export function summary(runs) {
  const rps = (r) => r.requests.average;
  const sorted = [...runs].sort((a, b) => rps(a) - rps(b));
  const m = sorted[Math.floor(sorted.length / 2)];
  return {
    requestsPerSecond: Math.round(median(runs.map(rps))),
    p50Ms: m.latency.p50,
    p99Ms: m.latency.p99,
    requests: runs.reduce((n, r) => n + r.requests.total, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    runs: runs.map((r) => Math.round(rps(r))),
    cpuUsPerRequest: Math.round(median(runs.map((r) => r.cpuUsPerRequest ?? 0))),
  };
}
