import { describe, expect, it } from "vitest";
import { type Delivery, unwrapEnvelope } from "../../src/pipeline/delivery.js";

describe("unwrapEnvelope", () => {
  it("opens serve's envelope once: asked again (the lookup, then the pipeline), it keeps the body inside as it is", () => {
    const inner = { provider: "jira", body: { webhookEvent: "jira:issue_updated" } };
    const envelope: Delivery = { source: "x", headers: {}, body: { ok: true, value: { provider: "jira", integration: "jira-1", headers: {}, body: inner } } };
    const once = unwrapEnvelope(envelope) as Delivery;
    expect(once.body).toEqual({ ok: true, value: inner });
    expect(unwrapEnvelope(once)).toBe(once);
  });
});
