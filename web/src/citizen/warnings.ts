// Active warnings, worked out from the current values: water levels above their alert or danger
// level, poor air quality. (The heavy-rain simulation's warning: citizen/hazard.ts.)
import { label, t } from '../shared/i18n';
import { number, unit } from '../shared/format';
import { attr, num, type Entity } from '../shared/entity';
import { floodState, looks, placeName } from './layers';
import { isSimulated } from './hazard';

export interface Warning {
  entity: Entity;
  severity: 'warn' | 'alert';
  text: string;
}

export function warningsOf(entities: Entity[]): Warning[] {
  const out: Warning[] = [];
  for (const e of entities) {
    if (isSimulated(e)) continue;
    if (e.type === 'FloodMonitoring') {
      const s = floodState(e);
      if (s === 'warn' || s === 'alert') {
        const level = num(e, 'currentLevel');
        const u = unit(attr(e, 'currentLevel')?.unitCode);
        const where = s === 'alert' ? t('aboveDanger') : t('aboveAlert');
        out.push({ entity: e, severity: s,
          text: `${placeName(e)}: ${label('currentLevel')} ${level !== undefined ? number(level) + ' ' + u : ''} – ${where}` });
      }
    } else if (e.type === 'AirQualityObserved') {
      const s = looks.AirQualityObserved.state(e);
      // A moderate index (3) colours the marker only; poor air (4 and up) is a warning.
      if (s === 'alert') out.push({ entity: e, severity: s, text: `${placeName(e)}: ${t('poorAir')}` });
    }
  }
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'alert' ? -1 : 1));
}
