import { isObject } from "./schema.js";

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+$/;

export const looksLikeEmail = (s: string): boolean => EMAIL.test(s);

/**
 * The email in `"Name <email>"` (the last `<...>`, which must look like an email: Sentry takes the
 * first unchecked, so "a <b> <c@d>" gave "b"), or a bare email; null when there is none.
 */
export function emailFromDisplay(text: string): string | null {
  const trimmed = text.trim();
  const open = trimmed.lastIndexOf("<");
  if (open !== -1) {
    const close = trimmed.indexOf(">", open);
    if (close !== -1) {
      const inner = trimmed.slice(open + 1, close).trim();
      return looksLikeEmail(inner) ? inner : null;
    }
  }
  return looksLikeEmail(trimmed) ? trimmed : null;
}

/**
 * The email of an Azure DevOps identity: "Name <email>" or a bare email, or (api-version 5.0 and
 * later) an object whose uniqueName is the email or whose displayName holds one; else null.
 */
export function identityEmail(identity: unknown): string | null {
  if (typeof identity === "string") return emailFromDisplay(identity);
  if (!isObject(identity)) return null;
  const unique = typeof identity.uniqueName === "string" ? identity.uniqueName.trim() : "";
  if (looksLikeEmail(unique)) return unique;
  return typeof identity.displayName === "string" ? emailFromDisplay(identity.displayName) : null;
}
