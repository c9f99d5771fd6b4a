// Active warnings, worked out from the current values: water levels above their alert or danger
// level, poor air quality. (The heavy-rain simulation's warnings come with the twin's API.)
import { label, t } from '../shared/i18n';
import { number, unit } from '../shared/format';
import { attr, num, title, type Entity } from '../shared/entity';
import { floodState, looks } from './layers';

export interface Warning {
  entity: Entity;
  severity: 'warn' | 'alert';
  text: string;
}

export function warningsOf(entities: Entity[]): Warning[] {
  const out: Warning[] = [];
  for (const e of entities) {
    if (e.type === 'FloodMonitoring') {
      const s = floodState(e);
      if (s === 'warn' || s === 'alert') {
        const level = num(e, 'currentLevel');
        const u = unit(attr(e, 'currentLevel')?.unitCode);
        const where = s === 'alert' ? t('aboveDanger') : t('aboveAlert');
        out.push({ entity: e, severity: s,
          text: `${title(e)}: ${label('currentLevel')} ${level !== undefined ? number(level) + ' ' + u : ''} – ${where}` });
      }
    } else if (e.type === 'AirQualityObserved') {
      const s = looks.AirQualityObserved.state(e);
      if (s === 'warn' || s === 'alert') out.push({ entity: e, severity: s, text: `${title(e)}: ${t('poorAir')}` });
    }
  }
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'alert' ? -1 : 1));
}
