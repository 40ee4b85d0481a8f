import type { ProviderName } from "../providers/types.js";
import type { ReadMemo } from "./read-memo.js";
import type { Sql } from "./sql.js";

export interface IntegrationRow {
  id: number;
  provider: ProviderName;
  externalId: string;
  name: string;
  baseUrl: string | null;
  webhookSecret: string;
}

const COLUMNS = `id, provider, external_id AS externalId, name, base_url AS baseUrl, webhook_secret AS webhookSecret`;
const BY_EXTERNAL_ID = `SELECT ${COLUMNS} FROM integrations WHERE external_id = ?`;
const OF_PROVIDER = `SELECT ${COLUMNS} FROM integrations WHERE provider = ? ORDER BY external_id LIMIT 2`;
const EVERYTHING = `SELECT ${COLUMNS} FROM integrations ORDER BY provider, external_id`;

export class IntegrationsRepo {
  constructor(
    private readonly sql: Sql,
    private readonly memo: ReadMemo,
  ) {}

  byExternalId(externalId: string): Promise<IntegrationRow | undefined> {
    return this.memo.get(`integration:${externalId}`, () => this.sql.get<IntegrationRow>(BY_EXTERNAL_ID, [externalId]));
  }

  /** The integration of that provider when it is the only one, else undefined. */
  onlyOf(provider: ProviderName): Promise<IntegrationRow | undefined> {
    return this.memo.get(`only:${provider}`, async () => {
      const rows = await this.sql.all<IntegrationRow>(OF_PROVIDER, [provider]);
      return rows.length === 1 ? rows[0] : undefined;
    });
  }

  all(): Promise<IntegrationRow[]> {
    return this.sql.all<IntegrationRow>(EVERYTHING);
  }
}
