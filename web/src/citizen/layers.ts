// How the citizen app shows each known entity type: colour, the value in its marker's label,
// and its state (which also feeds the warnings). Unknown public types get the generic look.
import { label } from '../shared/i18n';
import { number, unit } from '../shared/format';
import { attr, num, str, title, type Entity } from '../shared/entity';

export type State = 'ok' | 'warn' | 'alert' | 'off';

export interface LayerLook {
  symbol: string; // one or two letters in the marker
  summary(e: Entity): string;
  state(e: Entity): State;
}

function value(e: Entity, name: string, digits = 1): string {
  const v = num(e, name);
  if (v === undefined) return '';
  const u = unit(attr(e, name)?.unitCode);
  return `${number(v, digits)}${u ? ' ' + u : ''}`;
}

export const looks: Record<string, LayerLook> = {
  ParkingSpot: {
    symbol: 'P',
    summary: (e) => label(str(e, 'status') ?? 'unknown'),
    state: (e) => ({ free: 'ok', occupied: 'warn', closed: 'off' } as Record<string, State>)[str(e, 'status') ?? ''] ?? 'off',
  },
  OffStreetParking: {
    symbol: 'P',
    summary: (e) => {
      const free = num(e, 'availableSpotNumber');
      const total = num(e, 'totalSpotNumber');
      return free === undefined ? '' : `${free}${total ? ' / ' + total : ''} ${label('free')}`;
    },
    state: (e) => {
      const free = num(e, 'availableSpotNumber');
      const total = num(e, 'totalSpotNumber') ?? 0;
      if (free === undefined) return 'off';
      return free === 0 ? 'alert' : total && free / total < 0.1 ? 'warn' : 'ok';
    },
  },
  FloodMonitoring: {
    symbol: 'W',
    summary: (e) => value(e, 'currentLevel', 2),
    state: (e) => floodState(e),
  },
  AirQualityObserved: {
    symbol: 'L',
    summary: (e) => (num(e, 'no2') !== undefined ? `NO₂ ${value(e, 'no2', 0)}` : value(e, 'pm10', 0)),
    state: (e) => {
      const i = num(e, 'airQualityIndex');
      const no2 = num(e, 'no2') ?? 0;
      return (i !== undefined && i >= 4) || no2 > 200 ? 'alert' : (i !== undefined && i >= 3) || no2 > 100 ? 'warn' : 'ok';
    },
  },
  WeatherObserved: {
    symbol: 'T',
    summary: (e) => value(e, 'temperature', 1),
    state: () => 'ok',
  },
  EVChargingStation: {
    symbol: 'E',
    summary: (e) => {
      const free = num(e, 'availableCapacity');
      return free === undefined ? label(str(e, 'status') ?? '') : `${free} ${label('free')}`;
    },
    state: (e) => (num(e, 'availableCapacity') === 0 ? 'warn' : 'ok'),
  },
  WasteContainer: {
    symbol: 'C',
    summary: (e) => {
      const f = num(e, 'fillingLevel');
      return f === undefined ? '' : `${Math.round(f * 100)} %`;
    },
    state: (e) => ((num(e, 'fillingLevel') ?? 0) >= 0.9 || str(e, 'status') === 'full' ? 'warn' : 'ok'),
  },
  Streetlight: {
    symbol: 'S',
    summary: (e) => label(str(e, 'status') ?? ''),
    state: (e) => (str(e, 'status') && str(e, 'status') !== 'ok' ? 'warn' : 'ok'),
  },
};

const generic: LayerLook = { symbol: '•', summary: () => '', state: () => 'ok' };

export function look(type: string): LayerLook {
  return looks[type] ?? generic;
}

// The order in which the app offers its layers when the deployment has no catalogue.
export const defaultLayers = ['FloodMonitoring', 'ParkingSpot', 'OffStreetParking', 'AirQualityObserved',
  'WeatherObserved', 'EVChargingStation'];

// Water level against its thresholds (FloodMonitoring: alertLevel, dangerLevel, floodLevelStatus).
export function floodState(e: Entity): State {
  const level = num(e, 'currentLevel');
  const alert = num(e, 'alertLevel');
  const danger = num(e, 'dangerLevel');
  const status = str(e, 'floodLevelStatus');
  if (status === 'danger' || (level !== undefined && danger !== undefined && level >= danger)) return 'alert';
  if (status === 'alert' || (level !== undefined && alert !== undefined && level >= alert)) return 'warn';
  return level === undefined ? 'off' : 'ok';
}

// The name of a place in lists and headings: its `name`, else the type's label and the id's end.
export function placeName(e: Entity): string {
  return title(e, label);
}
