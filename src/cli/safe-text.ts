/**
 * Text that came from a client (a reason quoting an event type or an integration id) shown on
 * a terminal: control characters escaped so it can neither break the line nor send escape codes.
 */
export const oneLine = (text: string, max = 300): string => {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
};
