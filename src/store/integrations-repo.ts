import type { ProviderName } from "../providers/types.js";
import type { Db } from "./db.js";
import type { ReadMemo } from "./read-memo.js";

export interface IntegrationRow {
  id: number;
  provider: ProviderName;
  externalId: string;
  name: string;
  baseUrl: string | null;
  webhookSecret: string;
}

const COLUMNS = `id, provider, external_id AS externalId, name, base_url AS baseUrl, webhook_secret AS webhookSecret`;

export class IntegrationsRepo {
  private readonly byId;
  private readonly ofProvider;
  private readonly everything;

  constructor(
    db: Db,
    private readonly memo: ReadMemo,
  ) {
    this.byId = db.prepare<[string], IntegrationRow>(`SELECT ${COLUMNS} FROM integrations WHERE external_id = ?`);
    this.ofProvider = db.prepare<[string], IntegrationRow>(
      `SELECT ${COLUMNS} FROM integrations WHERE provider = ? ORDER BY external_id LIMIT 2`,
    );
    this.everything = db.prepare<[], IntegrationRow>(`SELECT ${COLUMNS} FROM integrations ORDER BY provider, external_id`);
  }

  byExternalId(externalId: string): IntegrationRow | undefined {
    return this.memo.get(`integration:${externalId}`, () => this.byId.get(externalId));
  }

  /** The integration of that provider when it is the only one, else undefined. */
  onlyOf(provider: ProviderName): IntegrationRow | undefined {
    return this.memo.get(`only:${provider}`, () => {
      const rows = this.ofProvider.all(provider);
      return rows.length === 1 ? rows[0] : undefined;
    });
  }

  all(): IntegrationRow[] {
    return this.everything.all();
  }
}
