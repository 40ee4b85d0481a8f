import type { DeliveryOutcome } from "../store/deliveries-repo.js";

/** What a hook request is answered, and what its log line says. */
export interface Answer {
  /** null when the client left before it could be answered. */
  status: number | null;
  outcome: DeliveryOutcome | null;
  reason: string | null;
  delivery: number | null;
  headers?: Record<string, string>;
  /** Close the connection after answering: the rest of the body is not read. */
  close?: boolean;
}

/** One line per request (stderr, or stdout with --json), and one per pending delivery applied later. */
export interface RequestLog {
  time: string;
  method: string;
  path: string;
  status: number | null;
  outcome: DeliveryOutcome | null;
  reason: string | null;
  delivery: number | null;
  ms: number;
}

/** The HTTP status a judged delivery gets: 400 for a rejected payload, 202 for one kept for later. */
export const verdictOf = (outcome: DeliveryOutcome): number => (outcome === "rejected" ? 400 : outcome === "pending" ? 202 : 200);

/** Seconds a client is asked to wait when the receiver is out of capacity or its store is. */
export const RETRY_AFTER_S = 5;

export const unavailable = (reason: string): Answer => ({
  status: 503,
  outcome: null,
  reason,
  delivery: null,
  headers: { "retry-after": String(RETRY_AFTER_S) },
});
