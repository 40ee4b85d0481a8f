import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rateLimited } from "../fakes/discord.js";
import { fixture, ndjson } from "../helpers.js";
import { VSTS_PROJECT, expectNoSecrets, outboundWorld } from "../world.js";

const w = outboundWorld();

const json = (r: { stdout: string }) => JSON.parse(r.stdout);
const on = (url: string) => w.run(["notify", "discord", "--webhook-url-stdin"], { stdin: `${url}\n` });
const credentials = () => join(w.env.HOOKSYNC_CONFIG_DIR!, "credentials.json");
const discordCalls = () => w.discord.requests.map((r) => `${r.method} ${r.url.pathname.replace(/\/webhooks\/(\d+)\/[^/]+/, "/webhooks/$1/<token>")}${r.url.search}`);

/** A webhook with notifications on; the fake's log cleared of the check. */
async function notifying() {
  const hook = w.discord.webhook();
  expect((await on(hook.url)).code).toBe(0);
  w.discord.reset();
  return hook;
}

const vstsAssign = (email: string, workItem = 5) => {
  const p = JSON.parse(readFileSync(fixture("vsts-workitem-updated.json"), "utf8"));
  p.resource.workItemId = workItem;
  p.resource.fields = { "System.AssignedTo": { newValue: `Someone <${email}>` } };
  p.resourceContainers.project.id = VSTS_PROJECT.id;
  return JSON.stringify(p);
};

describe("notify discord", () => {
  it("checks the webhook, keeps its URL with the credentials (0600), and only ever shows it redacted", async () => {
    const hook = w.discord.webhook("hooksync alerts");
    const r = await on(hook.url);
    expect(r.code).toBe(0);
    const shown = `${w.discord.origin}/api/webhooks/${hook.id}/<redacted>`;
    expect(r.stdout).toBe(`Discord notifications: on, ${shown} (URL from credentials)\n`);
    expect(discordCalls()).toEqual([`GET /api/webhooks/${hook.id}/<token>`]);
    expect(statSync(credentials()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(credentials(), "utf8")).discord[hook.id].url).toBe(hook.url);
    const status = await w.run(["notify", "status", "--json", "-v"]);
    expect(json(status)).toEqual({ discord: { enabled: true, webhook: shown, urlFrom: "credentials", unsent: 0 } });
    expectNoSecrets(r, [hook.token]);
    expectNoSecrets(status, [hook.token]);
  });

  it("takes the URL from HOOKSYNC_DISCORD_WEBHOOK_URL or --webhook-url (with a warning), and asks for it only on a terminal", async () => {
    const hook = w.discord.webhook();
    const env = await w.run(["notify", "discord"], { env: { HOOKSYNC_DISCORD_WEBHOOK_URL: hook.url } });
    expect(env.code).toBe(0);
    const flag = await w.run(["notify", "discord", "--webhook-url", hook.url]);
    expect(flag.code).toBe(0);
    expect(flag.stderr).toContain("note: a URL given as a flag shows in the process list");
    const none = await w.run(["notify", "discord"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("hooksync: Discord webhook URL: no terminal to ask on (supply it with --webhook-url-stdin or HOOKSYNC_DISCORD_WEBHOOK_URL)\n");
    for (const r of [env, flag, none]) expectNoSecrets(r, [hook.token]);
  });

  it("refuses what is not a Discord webhook URL, or one Discord does not know, without repeating it", async () => {
    for (const url of ["https://example.com/api/webhooks/123/s3cr3t-t0ken-value", "https://discord.com/channels/123/s3cr3t-t0ken-value", "not a url s3cr3t-t0ken-value"]) {
      const r = await on(url);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^hooksync: .*expected https:\/\/discord.com\/api\/webhooks\/<id>\/<token>/);
      expectNoSecrets(r, ["s3cr3t-t0ken-value"]);
    }
    const hook = w.discord.webhook();
    w.discord.state.webhooks.delete(hook.id);
    const gone = await on(hook.url);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("hooksync: Discord does not know this webhook (deleted, or a wrong URL) (HTTP 404 on check the webhook): Unknown Webhook");
    expect(json(await w.run(["notify", "status", "--json"])).discord.enabled).toBe(false);
    // --no-check stores it without asking (Discord unreachable from here); sending will say what is wrong.
    w.discord.reset();
    const unchecked = await w.run(["notify", "discord", "--webhook-url-stdin", "--no-check"], { stdin: hook.url });
    expect(unchecked.code).toBe(0);
    expect(w.discord.requests).toEqual([]);
    expect(json(await w.run(["notify", "status", "--json"])).discord.enabled).toBe(true);
  });

  it("--off stops notifying and drops the notifications not sent yet", async () => {
    const hook = await notifying();
    w.discord.failNext({ status: 500 }, { times: 4 });
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    const off = await w.run(["notify", "discord", "--off"]);
    expect(off.code).toBe(0);
    expect(off.stdout).toBe("Discord notifications: off\n");
    expect(off.stderr).toBe("dropped 1 unsent notification\n");
    expect(JSON.parse(readFileSync(credentials(), "utf8")).discord).toEqual({});
    w.discord.reset();
    await w.run(["assign", "BACKEND-1", "bob.smith@example.com"]);
    expect(w.discord.requests).toEqual([]);
    expect(w.discord.state.webhooks.get(hook.id)!.messages.size).toBe(0);
  });
});

describe("Discord notifications (behaviour.md 8.1)", () => {
  it("8.1 an assignee change posts a message with ?wait=true that pings no one, and keeps its id", async () => {
    const hook = await notifying();
    await w.importData({ issues: [{ id: "BACKEND-1", project: "backend", title: "Crash when @everyone or <@80351110224678912> logs in", status: "unresolved", assignee: null }] });
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]);
    expect(r.code).toBe(0);
    const [message] = [...w.discord.state.webhooks.get(hook.id)!.messages.values()];
    expect(json(r).pushes[2]).toEqual({
      id: expect.any(Number),
      kind: "discord",
      issue: "BACKEND-1",
      integration: "discord",
      externalKey: null,
      ok: true,
      detail: `posted Discord message ${message!.id}`,
      error: null,
    });
    expect(discordCalls()).toEqual([`POST /api/webhooks/${hook.id}/<token>?wait=true`]);
    expect(w.discord.requests[0]!.json()).toEqual({
      content: "**BACKEND-1** Crash when @everyone or \\<@80351110224678912\\> logs in — assigned to jane.doe@example.com (from hooksync)",
      allowed_mentions: { parse: [] },
    });
    expect(message).toMatchObject({ mentions: [], mentionEveryone: false });
    // Status changes are not notified.
    await w.run(["resolve", "BACKEND-1"]);
    expect(w.discord.requests).toHaveLength(1);
  });

  it("8.1 a later change to the issue edits its message instead of posting anew", async () => {
    const hook = await notifying();
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    await w.run(["assign", "BACKEND-1", "bob.smith@example.com"]);
    await w.run(["unassign", "BACKEND-1"]);
    const messages = [...w.discord.state.webhooks.get(hook.id)!.messages.values()];
    expect(messages).toHaveLength(1);
    expect(discordCalls()).toEqual([
      `POST /api/webhooks/${hook.id}/<token>?wait=true`,
      `PATCH /api/webhooks/${hook.id}/<token>/messages/${messages[0]!.id}`,
      `PATCH /api/webhooks/${hook.id}/<token>/messages/${messages[0]!.id}`,
    ]);
    expect(w.discord.requests[2]!.json()).toEqual({ content: "**BACKEND-1** TypeError in checkout — unassigned (from hooksync)", allowed_mentions: { parse: [] } });
    expect(messages[0]).toMatchObject({ content: "**BACKEND-1** TypeError in checkout — unassigned (from hooksync)", editedTimestamp: expect.any(String) });
  });

  it("8.1 inbound changes are notified too, naming the tracker, when the outbox is sent", async () => {
    const hook = await notifying();
    const r = await w.run(["replay", "-", "--json"], { stdin: vstsAssign("bob.smith@example.com") });
    expect(ndjson(r.stdout)[0]).toMatchObject({ outcome: "applied" });
    expect(w.discord.requests).toEqual([]);
    expect(json(await w.run(["notify", "status", "--json"])).discord.unsent).toBe(1);
    expect((await w.run(["outbound", "send"])).code).toBe(0);
    expect([...w.discord.state.webhooks.get(hook.id)!.messages.values()].map((m) => m.content)).toEqual([
      "**BACKEND-1** TypeError in checkout — assigned to bob.smith@example.com (from Azure DevOps)",
    ]);
  });

  it("8.1 a message deleted in Discord (404 Unknown Message) is posted anew, and the new one edited after", async () => {
    const hook = await notifying();
    await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    const messages = w.discord.state.webhooks.get(hook.id)!.messages;
    const [first] = [...messages.keys()];
    messages.clear();
    const r = await w.run(["assign", "BACKEND-1", "bob.smith@example.com", "--json"]);
    const [second] = [...messages.keys()];
    expect(json(r).pushes.at(-1)).toMatchObject({ ok: true, detail: `posted Discord message ${second} (message ${first} was deleted)` });
    await w.run(["unassign", "BACKEND-1"]);
    expect(discordCalls().slice(1)).toEqual([
      `PATCH /api/webhooks/${hook.id}/<token>/messages/${first}`,
      `POST /api/webhooks/${hook.id}/<token>?wait=true`,
      `PATCH /api/webhooks/${hook.id}/<token>/messages/${second}`,
    ]);
    expect([...messages.values()].map((m) => m.content)).toEqual(["**BACKEND-1** TypeError in checkout — unassigned (from hooksync)"]);
  });

  it("8.1 a failed post never fails the sync: it stays in the outbox and is sent later", async () => {
    const hook = await notifying();
    w.discord.failNext({ status: 502 });
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "--json"]);
    expect(r.code).toBe(0);
    // Not repeated at once: a POST that got a 502 may have been posted.
    expect(w.discord.requests).toHaveLength(1);
    expect(json(r).pushes.map((p: any) => [p.kind, p.integration, p.ok])).toEqual([
      ["assignee", expect.any(String), true],
      ["assignee", expect.any(String), true],
      ["discord", "discord", false],
    ]);
    expect(r.stderr).toContain("hooksync: BACKEND-1 notification to Discord failed: Discord failed (HTTP 502 on post a message)");
    expect(w.workItems.items.get(5)!.fields["System.AssignedTo"]).toBe("jane.doe@example.com");
    const retry = await w.run(["outbound", "retry"]);
    expect(retry.code).toBe(0);
    expect(w.discord.state.webhooks.get(hook.id)!.messages.size).toBe(1);
  });

  it("E.4 a 429 is waited out as its retry_after says, then the same message is sent once", async () => {
    const hook = await notifying();
    w.discord.failNext(rateLimited(0.862));
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com"]);
    expect(r.code).toBe(0);
    // The body's float seconds, not the header's rounded-up second.
    expect(r.sleeps).toEqual([862]);
    expect(discordCalls()).toEqual([`POST /api/webhooks/${hook.id}/<token>?wait=true`, `POST /api/webhooks/${hook.id}/<token>?wait=true`]);
    expect(w.discord.state.webhooks.get(hook.id)!.messages.size).toBe(1);
  });

  it("E.4 a spent rate-limit bucket is waited out before the next request rather than hitting a 429", async () => {
    const hook = await notifying();
    await w.run(["replay", "-"], { stdin: `${vstsAssign("jane.doe@example.com", 5)}\n${vstsAssign("jane.doe@example.com", 7)}` });
    w.discord.state.bucket = { limit: 5, remaining: 1, resetAfter: 1.5 };
    const r = await w.run(["outbound", "send"]);
    expect(r.code).toBe(0);
    expect(r.sleeps).toEqual([1500]);
    expect(w.discord.requests.map((q) => q.method)).toEqual(["POST", "POST"]);
    expect(w.discord.state.webhooks.get(hook.id)!.messages.size).toBe(2);
  });

  it("never prints the webhook token, not even in -v request logs", async () => {
    const hook = await notifying();
    const r = await w.run(["assign", "BACKEND-1", "jane.doe@example.com", "-v"]);
    expect(r.stderr).toContain(`POST ${w.discord.origin}/api/webhooks/${hook.id}/***?wait=true -> 200`);
    expectNoSecrets(r, [hook.token]);
  });
});
