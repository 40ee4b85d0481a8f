import type { Delivery } from "../pipeline/delivery.js";
import { needsLookup } from "../pipeline/enrich.js";
import { decodeJson } from "../pipeline/inputs.js";
import { processInTransaction } from "../pipeline/process.js";
import { providers } from "../providers/registry.js";
import type { Headers, ProviderName } from "../providers/types.js";
import type { DeliveryOutcome, DeliveryStart, PendingDelivery } from "../store/deliveries-repo.js";
import type { IntegrationRow } from "../store/integrations-repo.js";
import type { Store } from "../store/store.js";
import { type Answer, verdictOf } from "./answer.js";
import { refusedBody } from "./body.js";
import type { DeliveryQueue } from "./queue.js";
import { type FindIntegration, type Verified, verifyJira, verifyVsts } from "./verify.js";

/** A hook request whose body has been read, as the HTTP front hands it over. */
export interface Received {
  provider: ProviderName;
  /** The token in a Jira route's URL ("" when there is none). */
  token: string;
  /** The VSTS `shared-secret` header as sent. */
  secret: string | undefined;
  method: string;
  shownPath: string;
  receivedAt: string;
  /** Already stripped of secrets. */
  headers: Headers;
  bytes: Buffer;
}

/** Rule 3.5's lookup: the delivery with the assignee's email filled in, or why Jira could not say. */
export type Lookup = (delivery: Delivery, integration: IntegrationRow) => Promise<{ ok: true; delivery: Delivery } | { ok: false; reason: string }>;

export interface ApplierDeps {
  now: () => Date;
  /** Absent when no lookup is possible (the engine then ignores a hidden email, rule 3.5). */
  lookup?: Lookup;
}

/** Deliveries of one external issue keep their order; the provider keeps same-numbered issues of two trackers apart. */
const orderKey = (provider: ProviderName | null, externalKey: string | null): string | null =>
  provider === null || externalKey === null ? null : `${provider}:${externalKey}`;

/** Verification's integration lookup, through the scope it runs in (the batch's transaction, or the store on arrival). */
const finder = (scope: Store): FindIntegration => (externalId) => scope.integrations.byExternalId(externalId);

/**
 * Verify and apply: a delivery's provider parses it once, the integration is authenticated, then
 * in one transaction of the queue it is refused, recognised as a redelivery, kept pending (rule
 * 10.4), or applied through the one pipeline, and recorded with its outcome.
 */
export class DeliveryApplier {
  constructor(
    private readonly store: Store,
    private readonly queue: DeliveryQueue,
    private readonly deps: ApplierDeps,
  ) {}

  /** Resolves once the delivery's transaction is on disk, with its answer. */
  async receive(r: Received): Promise<Answer> {
    const provider = providers[r.provider];
    const body = decodeJson(r.bytes);
    const parsed = body.ok ? provider.parse(body.value) : undefined;
    const start: DeliveryStart = {
      receivedAt: r.receivedAt,
      source: "serve",
      route: r.shownPath,
      provider: r.provider,
      identity: body.ok ? provider.deliveryIdentity(body.value, r.headers) : null,
      externalKey: parsed?.ok ? parsed.externalKey : null,
      headers: r.headers,
      body: r.bytes,
      bodySize: r.bytes.length,
      bodySha256: null,
    };
    const verify = async (scope: Store): Promise<Verified> =>
      r.provider === "jira"
        ? verifyJira(r.token, this.deps.now().getTime(), finder(scope), { signature: r.headers["x-hub-signature"], bytes: r.bytes, authOf: (id) => scope.jiraWebhookAuth.of(id) })
        : body.ok
          ? verifyVsts(body.value, r.secret, finder(scope))
          : { ok: false, status: 400, reason: body.reason };
    // From here on the sender is authenticated; a Jira body that is not JSON is the pipeline's
    // to reject, like any other malformed payload.
    const delivery: Delivery = { source: `${r.method} ${r.shownPath}`, body, headers: r.headers, provider: r.provider };
    const queued = await this.queue.inOrder(orderKey(r.provider, start.externalKey), async () => {
      const lookup = this.deps.lookup;
      // Verified inside the batch's transaction, where looking the integration up is nearly free.
      // The parse is handed down only with the body it was made from: a lookup changes the body.
      if (!lookup || !needsLookup(delivery)) return { answer: this.queue.commit(async (tx) => this.judge(tx, parsed ? { ...delivery, parsed } : delivery, start, await verify(tx))) };
      // Nothing goes to Jira about a payload before its sender is authenticated; authenticated
      // once, on arrival: the lookup's answer does not make the sender any more or less trusted.
      const verified = await verify(this.store);
      if (!verified.ok) return { answer: this.queue.commit((tx) => this.judge(tx, delivery, start, verified)) };
      const looked = await lookup(delivery, verified.integration);
      if (!looked.ok) return { answer: this.queue.commit((tx) => this.judge(tx, delivery, start, verified, `waiting for the Jira user lookup: ${looked.reason}`)) };
      return { answer: this.queue.commit((tx) => this.judge(tx, looked.delivery, start, verified)) };
    });
    return queued.answer;
  }

  /** A request refused before its payload was looked at (405, 413, 415, ...): one row, the body cut short. */
  refuse(start: Omit<DeliveryStart, "body" | "bodySize" | "bodySha256">, bytes: Buffer | null, status: number | null, reason: string): Promise<Answer> {
    return this.queue.commit((tx) => this.decided(tx, { ...start, ...refusedBody(bytes) }, null, "rejected", reason, status));
  }

  /**
   * Rule 10.4, later: a pending delivery applied once its lookup answers, in order with the
   * deliveries of its issue. undefined when it still waits, or another receiver applied it.
   */
  async retry(row: PendingDelivery): Promise<Answer | undefined> {
    const integration = row.integration === null ? undefined : await this.store.integrations.byExternalId(row.integration);
    const queued = await this.queue.inOrder(orderKey(row.provider, row.externalKey), async () => {
      let delivery: Delivery = { source: `pending delivery ${row.id}`, body: decodeJson(row.body ?? Buffer.alloc(0)), headers: row.headers, ...(row.provider ? { provider: row.provider } : {}) };
      let lookupFailed: string | undefined;
      if (integration && this.deps.lookup && needsLookup(delivery)) {
        const looked = await this.deps.lookup(delivery, integration);
        if (looked.ok) delivery = looked.delivery;
        else lookupFailed = `waiting for the Jira user lookup: ${looked.reason}`;
      }
      return {
        answer: this.queue.commit(async (tx): Promise<Answer | undefined> => {
          const deliveries = tx.deliveries;
          if (row.provider !== null) await deliveries.lockJudging(row.provider, row.integrationId, row.externalKey ?? `#${row.id}`);
          if (!(await deliveries.isPending(row.id))) return undefined;
          let waiting = lookupFailed;
          const first = row.externalKey === null ? row.id : await deliveries.pendingFor(row.integrationId, row.externalKey);
          if (first !== undefined && first !== row.id) waiting = `waiting for delivery ${first} of the same issue`;
          if (waiting !== undefined || !integration) {
            await deliveries.stillWaiting(row.id, waiting ?? "its integration is gone");
            return undefined;
          }
          return this.apply(tx, delivery, { ...row, source: "serve", identity: null, bodySize: null, bodySha256: null }, integration, row.id);
        }),
      };
    });
    return queued.answer;
  }

  /**
   * In the batch's transaction (tx, which everything here goes through): the duplicate check, the
   * order check and the apply cannot be split. Receivers of one PostgreSQL store take turns per
   * external issue (lockJudging); on SQLite the write lock already makes them.
   */
  private async judge(tx: Store, delivery: Delivery, start: DeliveryStart, verified: Verified, waiting?: string): Promise<Answer> {
    if (!verified.ok) return this.decided(tx, { ...start, ...refusedBody(start.body) }, null, "rejected", verified.reason, verified.status);
    const integration = verified.integration;
    const deliveries = tx.deliveries;
    const turn = start.externalKey ?? start.identity;
    if (turn !== null) await deliveries.lockJudging(start.provider!, integration.id, turn);
    if (waiting !== undefined) return this.decided(tx, start, integration, "pending", waiting);
    const first = start.externalKey === null ? undefined : await deliveries.pendingFor(integration.id, start.externalKey);
    if (first !== undefined) return this.decided(tx, start, integration, "pending", `waiting for delivery ${first} of the same issue`);
    return this.apply(tx, delivery, start, integration);
  }

  /** One row; a pending delivery's row claims its identity, and is a redelivery when another holds it (rule 6.2). */
  private async decided(tx: Store, start: DeliveryStart, integration: IntegrationRow | null, outcome: DeliveryOutcome, reason: string, status: number | null = verdictOf(outcome)): Promise<Answer> {
    const end = { integrationId: integration?.id ?? null, event: null, verdict: status, outcome, reason, changes: [] };
    const recorded = await tx.deliveries.record({ ...start, ...end });
    if ("held" in recorded) return this.redelivery(tx, start, integration!, recorded.held);
    return { status, outcome, reason, delivery: recorded.id };
  }

  private redelivery(tx: Store, start: DeliveryStart, integration: IntegrationRow, of: number): Promise<Answer> {
    return this.decided(tx, start, integration, "ignored", `redelivery of delivery ${of}`);
  }

  /**
   * Through the one pipeline; the delivery row and its changes in one transaction (rule 6.1). Its
   * row is written first, claiming its identity: a redelivery of one applied or pending is not
   * applied again.
   */
  private async apply(tx: Store, delivery: Delivery, start: DeliveryStart, integration: IntegrationRow, pendingId?: number): Promise<Answer> {
    let id = pendingId;
    if (id === undefined) {
      const begun = await tx.deliveries.begin(start, integration.id);
      if ("held" in begun) return this.redelivery(tx, start, integration, begun.held);
      id = begun.id;
    }
    const resolved = { ...delivery, resolved: integration };
    const o = await processInTransaction(tx, resolved, { source: "serve", provider: start.provider! }, start.receivedAt, id);
    // The authenticated integration, even when the pipeline rejected the payload before naming
    // one: replay --delivery tells verified deliveries by it. A pending one keeps the 202 it got.
    const end = { integrationId: integration.id, event: o.event, verdict: pendingId ? 202 : verdictOf(o.outcome), outcome: o.outcome, reason: o.reason, changes: o.changes };
    await tx.deliveries.finish(id, end, pendingId ? null : start.body);
    return { status: verdictOf(o.outcome), outcome: o.outcome, reason: o.reason, delivery: id };
  }
}
