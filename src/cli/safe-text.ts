/**
 * Text that came from a client (a reason quoting an event type or an integration id) shown on
 * a terminal: control characters escaped so it can neither break the line nor send escape codes.
 */
export const oneLine = (text: string, max = 300): string => {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
};

/**
 * Text from a tracker (a title, a name) in a table cell: control characters escaped as oneLine
 * does, quotes and backslashes left as the tracker wrote them.
 */
export const cell = (text: string, max = 80): string => {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length > max ? `${escaped.slice(0, max)}...` : escaped;
};
