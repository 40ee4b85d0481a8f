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
