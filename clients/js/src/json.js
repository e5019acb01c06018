// Strict JSON (RFC 8259) for token headers and payloads: UTF-8 only (no byte order mark), no
// duplicate member names at any depth (escaped spellings included), no NaN/Infinity, nothing
// after the value, nesting at most 128 deep, no unpaired surrogate escapes. JSON.parse alone
// keeps the last duplicate silently and forgets whether a number was written as an integer,
// so the text is validated here first; `nonInteger` lists the top-level members whose value
// is a number written with a fraction or an exponent (a NumericDate must be a JSON integer).

const MAX_DEPTH = 128;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Invalid extends Error {}

/** `{ value, nonInteger }` for a JSON object, else `null`. */
export function parseObject(bytes) {
  let text;
  try {
    text = decoder.decode(bytes);
  } catch {
    return null;
  }
  const nonInteger = new Set();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    const start = i;
    i++; // opening quote
    while (true) {
      if (i >= text.length) throw new Invalid();
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new Invalid();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Invalid();
          const unit = parseInt(hex, 16);
          if (unit >= 0xdc00 && unit <= 0xdfff) throw new Invalid();
          if (unit >= 0xd800 && unit <= 0xdbff) {
            const low = text.slice(i + 6, i + 12);
            if (!/^\\u[dD][c-fC-F][0-9a-fA-F]{2}$/.test(low)) throw new Invalid();
            i += 12;
          } else {
            i += 6;
          }
          continue;
        }
        if (!'"\\/bfnrt'.includes(e) || e === undefined) throw new Invalid();
        i += 2;
        continue;
      }
      i++;
    }
    i++; // closing quote
    return JSON.parse(text.slice(start, i));
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) throw new Invalid();
    i += m[0].length;
    return Boolean(m[1] || m[2]);
  };
  const value = (depth, topKey) => {
    ws();
    const c = text[i];
    if (c === '{') {
      if (depth >= MAX_DEPTH) throw new Invalid();
      i++;
      const seen = new Set();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      while (true) {
        ws();
        if (text[i] !== '"') throw new Invalid();
        const key = string();
        if (seen.has(key)) throw new Invalid();
        seen.add(key);
        ws();
        if (text[i] !== ':') throw new Invalid();
        i++;
        value(depth + 1, depth === 0 ? key : undefined);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw new Invalid();
      }
    }
    if (c === '[') {
      if (depth >= MAX_DEPTH) throw new Invalid();
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      while (true) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw new Invalid();
      }
    }
    if (c === '"') return void string();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      if (number() && topKey !== undefined) nonInteger.add(topKey);
      return;
    }
    throw new Invalid();
  };
  try {
    ws();
    if (text[i] !== '{') return null;
    value(0);
    ws();
    if (i !== text.length) return null;
    return { value: JSON.parse(text), nonInteger };
  } catch {
    return null;
  }
}
