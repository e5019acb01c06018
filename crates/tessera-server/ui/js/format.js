// Human-friendly dates and user agents.

const RTF = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "just now", "3 minutes ago", "in 6 days". */
export function relativeTime(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const seconds = Math.round((t - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'minute') {
      return RTF.format(Math.round(seconds / size), unit);
    }
  }
  return '';
}

/** "12 Mar 2026". */
export function shortDate(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : DATE.format(t);
}

/** "12 Mar 2026, 14:05" (for tooltips). */
export function fullDate(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : DATE_TIME.format(t);
}

/** A short description of a user agent: { label: "Chrome on Linux", mobile: false }. */
export function describeAgent(ua) {
  if (!ua) return { label: 'Unknown device', mobile: false };
  const browser =
    /Edg\//.test(ua) ? 'Edge'
    : /OPR\//.test(ua) ? 'Opera'
    : /HeadlessChrome\//.test(ua) ? 'Headless Chrome'
    : /(Chrome|Chromium|CriOS)\//.test(ua) ? 'Chrome'
    : /(Firefox|FxiOS)\//.test(ua) ? 'Firefox'
    : /Safari\//.test(ua) && /Version\//.test(ua) ? 'Safari'
    : /^curl\//.test(ua) ? 'curl'
    : /^node|undici/.test(ua) ? 'Node.js'
    : null;
  const os =
    /iPhone|iPad|iPod/.test(ua) ? 'iOS'
    : /Android/.test(ua) ? 'Android'
    : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Linux/.test(ua) ? 'Linux'
    : null;
  const mobile = /Mobi|iPhone|Android/.test(ua);
  if (browser && os) return { label: `${browser} on ${os}`, mobile };
  if (browser || os) return { label: browser ?? os, mobile };
  return { label: ua.length > 40 ? `${ua.slice(0, 40)}…` : ua, mobile };
}
