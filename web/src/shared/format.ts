// Numbers, units and times as people read them.
import { currentLang, t } from './i18n';

// UN/CEFACT common codes (NGSI-LD unitCode) the demo and the Smart Data Models use.
const units: Record<string, string> = {
  MTR: 'm', CMT: 'cm', MMT: 'mm', CEL: '°C', GQ: 'µg/m³', MTS: 'm/s', KMH: 'km/h', P1: '%',
  KWT: 'kW', KWH: 'kWh', HUR: 'h', MIN: 'min', SEC: 's', A97: 'hPa', C62: '',
};

export function unit(code?: string): string {
  if (!code) return '';
  return units[code] ?? code;
}

// Intl formatters are costly to make (a fraction of a millisecond each): one per language and
// option set, made on first use.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: (locale: string) => T): T {
  const k = `${currentLang()}|${key}`;
  let f = formatters.get(k);
  if (!f) formatters.set(k, (f = make(currentLang() === 'de' ? 'de-DE' : 'en-GB')));
  return f as T;
}

export function number(v: number, digits = 2): string {
  return cached(`n${digits}`, (l) => new Intl.NumberFormat(l, { maximumFractionDigits: digits })).format(v);
}

export function dateTime(iso: string): string {
  return cached('dt', (l) => new Intl.DateTimeFormat(l, { dateStyle: 'medium', timeStyle: 'short' })).format(new Date(iso));
}

export function shortTime(ms: number, withDay: boolean): string {
  const opts: Intl.DateTimeFormatOptions = withDay ? { day: 'numeric', month: 'numeric' } : { hour: '2-digit', minute: '2-digit' };
  return cached(withDay ? 'day' : 'hm', (l) => new Intl.DateTimeFormat(l, opts)).format(new Date(ms));
}

export function ago(iso: string, now = Date.now()): string {
  const minutes = Math.round((now - Date.parse(iso)) / 60000);
  if (minutes < 2) return t('justNow');
  const de = currentLang() === 'de';
  if (minutes < 120) return de ? `${t('ago')} ${minutes} ${t('minutes')}` : `${minutes} ${t('minutes')}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return de ? `${t('ago')} ${hours} ${t('hours')}` : `${hours} ${t('hours')}`;
  const days = Math.round(hours / 24);
  return de ? `${t('ago')} ${days} ${t('days')}` : `${days} ${t('days')}`;
}

// Metres between two WGS84 points (spherical model, as the server's geo/distance.h).
export function metres(a: [number, number], b: [number, number]): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(s));
}

export function distance(m: number): string {
  return m < 1000 ? `${Math.round(m)} m` : `${number(m / 1000, 1)} km`;
}
