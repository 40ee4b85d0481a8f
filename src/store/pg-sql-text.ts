/**
 * SQL written once for both backends (see sql.ts), made into PostgreSQL's: `?` becomes `$1`,
 * `$2`, ... and a camelCase alias after AS is quoted (PostgreSQL folds unquoted names to lower
 * case, so `AS organizationId` would come back as `organizationid`). Quoted strings and
 * identifiers are left alone. Each text is translated once.
 */
const cache = new Map<string, PgText>();

/**
 * A text as PostgreSQL runs it, with a name: node-postgres prepares a named statement once per
 * connection and then only binds and executes it, so the server does not parse and plan hooksync's
 * few dozen statements again for every delivery.
 */
export interface PgText {
  name: string;
  text: string;
}

const CAMEL_ALIAS = /\bAS(\s+)([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)\b/g;

export function pgText(text: string): PgText {
  let out = cache.get(text);
  if (out === undefined) {
    out = { name: `hooksync_${cache.size + 1}`, text: translate(text) };
    cache.set(text, out);
  }
  return out;
}

function translate(text: string): string {
  let out = "";
  let n = 0;
  let plain = "";
  const flushPlain = () => {
    out += plain.replace(CAMEL_ALIAS, 'AS$1"$2"').replace(/\?/g, () => `$${++n}`);
    plain = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "'" && c !== '"') {
      plain += c;
      continue;
    }
    flushPlain();
    // A quoted part runs to its closing quote; a doubled quote inside is an escaped one.
    let j = i + 1;
    for (;;) {
      if (j >= text.length) break;
      if (text[j] === c) {
        if (text[j + 1] === c) j += 2;
        else break;
      } else j++;
    }
    out += text.slice(i, j + 1);
    i = j;
  }
  flushPlain();
  return out;
}
