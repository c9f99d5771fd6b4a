// German and English. The language is the user's choice (kept in localStorage), else the
// browser's; German is the default.

export type Lang = 'de' | 'en';

const de = {
  skip: 'Zum Inhalt',
  switchLang: 'English',
  switchLangLabel: 'Switch to English',
  map: 'Karte',
  mapLabel: 'Karte der Gemeinde mit den öffentlichen Daten',
  layers: 'Ebenen',
  list: 'Alle Orte',
  nearMe: 'In meiner Nähe',
  nearMeFailed: 'Standort nicht verfügbar',
  distance: 'Entfernung',
  warnings: 'Aktuelle Warnungen',
  noWarnings: 'Keine Warnungen',
  back: 'Zurück zur Karte',
  share: 'Link teilen',
  copied: 'Link kopiert',
  currentValues: 'Aktuelle Werte',
  history: 'Verlauf',
  lastUpdate: 'Letzte Aktualisierung',
  stale: 'veraltet',
  fresh: 'aktuell',
  h24: '24 Stunden',
  d7: '7 Tage',
  d30: '30 Tage',
  range: 'Zeitraum',
  noHistory: 'Für diesen Zeitraum gibt es keine Messwerte.',
  table: 'Als Tabelle',
  from: 'von',
  to: 'bis',
  average: 'Mittel',
  minimum: 'Min',
  maximum: 'Max',
  trendRising: 'steigend',
  trendFalling: 'fallend',
  trendSteady: 'gleichbleibend',
  notFound: 'Diesen Ort gibt es nicht (mehr).',
  error: 'Die Daten konnten nicht geladen werden.',
  noData: 'Hier sind keine öffentlichen Daten zu sehen. Ist die Gemeinde richtig gewählt (?t=…)?',
  offline: 'Keine Verbindung – gezeigt werden die zuletzt geladenen Daten.',
  loading: 'Lädt …',
  clusterOf: 'Orte',
  zoomIn: 'Vergrößern, um sie einzeln zu sehen',
  noBaseMap: 'Ohne Hintergrundkarte: Gemeindegrenze und Daten',
  privacy: 'Keine Tracker, keine Anfragen an Dritte.',
  of: 'von',
  ago: 'vor',
  justNow: 'gerade eben',
  minutes: 'Min.',
  hours: 'Std.',
  days: 'Tagen',
  aboveAlert: 'über der Warnschwelle',
  aboveDanger: 'über der Gefahrenschwelle',
  alertLevel: 'Warnschwelle',
  dangerLevel: 'Gefahrenschwelle',
  poorAir: 'schlechte Luftqualität',
  // console
  signIn: 'Anmelden',
  signOut: 'Abmelden',
  apiKey: 'API-Schlüssel',
  tenant: 'Gemeinde (Mandant)',
  tenantHint: 'leer lassen für den Standard-Mandanten oder als Plattform-Admin',
  signInFailed: 'Anmeldung fehlgeschlagen',
  overview: 'Übersicht',
  entities: 'Entitäten',
  subscriptions: 'Abonnements',
  devices: 'Geräte',
  keys: 'Schlüssel',
  audit: 'Prüfprotokoll',
  type: 'Typ',
  count: 'Anzahl',
  filter: 'Filtern',
  query: 'Abfrage (q)',
  allTypes: 'alle Typen',
  edit: 'Bearbeiten',
  save: 'Speichern',
  saved: 'Gespeichert',
  create: 'Anlegen',
  newEntity: 'Neue Entität',
  delete: 'Löschen',
  deleted: 'Gelöscht',
  revoke: 'Widerrufen',
  status: 'Status',
  name: 'Name',
  role: 'Rolle',
  created: 'Angelegt',
  expires: 'Läuft ab',
  lastSeen: 'Zuletzt gesehen',
  health: 'Zustand',
  silent: 'still',
  erroring: 'fehlerhaft',
  healthy: 'in Ordnung',
  accepted: 'angenommen',
  rejected: 'abgelehnt',
  sent: 'gesendet',
  failed: 'fehlgeschlagen',
  endpoint: 'Empfänger',
  time: 'Zeit',
  subject: 'Wer',
  action: 'Aktion',
  target: 'Ziel',
  nothing: 'Keine Einträge.',
  newKey: 'Neuer Schlüssel',
  keyOnce: 'Der Schlüssel wird nur jetzt angezeigt:',
  usage: 'Nutzung',
  requests: 'Anfragen',
  refused: 'abgelehnt',
  quota: 'Kontingent',
  failingSubs: 'Fehlschlagende Abonnements',
  devicesHealth: 'Geräte mit Problemen',
  json: 'JSON (NGSI-LD, normalisiert)',
  more: 'Mehr',
  next: 'Weiter',
  previous: 'Zurück',
  needsTenant: 'Dafür muss eine Gemeinde (Mandant) gewählt sein.',
  checklist: 'Checkliste',
  tenants: 'Mandanten',
  newDevice: 'Neues Gerät',
  opendata: 'Open Data',
  newDataset: 'Neuer Datensatz',
  suspend: 'Sperren',
  activate: 'Aktivieren',
  mapArea: 'Nur im Kartenausschnitt',
};

export type Key = keyof typeof de;

const en: Record<Key, string> = {
  skip: 'Skip to content',
  switchLang: 'Deutsch',
  switchLangLabel: 'Auf Deutsch umschalten',
  map: 'Map',
  mapLabel: 'Map of the municipality with its public data',
  layers: 'Layers',
  list: 'All places',
  nearMe: 'Near me',
  nearMeFailed: 'Location not available',
  distance: 'Distance',
  warnings: 'Active warnings',
  noWarnings: 'No warnings',
  back: 'Back to the map',
  share: 'Share link',
  copied: 'Link copied',
  currentValues: 'Current values',
  history: 'History',
  lastUpdate: 'Last update',
  stale: 'stale',
  fresh: 'current',
  h24: '24 hours',
  d7: '7 days',
  d30: '30 days',
  range: 'Period',
  noHistory: 'No measurements in this period.',
  table: 'As a table',
  from: 'from',
  to: 'to',
  average: 'Average',
  minimum: 'Min',
  maximum: 'Max',
  trendRising: 'rising',
  trendFalling: 'falling',
  trendSteady: 'steady',
  notFound: 'This place does not exist (any more).',
  error: 'The data could not be loaded.',
  noData: 'There is no public data here. Is the municipality right (?t=…)?',
  offline: 'Offline – showing the data loaded last.',
  loading: 'Loading …',
  clusterOf: 'places',
  zoomIn: 'Zoom in to see them one by one',
  noBaseMap: 'No base map: municipal boundary and data',
  privacy: 'No trackers, no third-party requests.',
  of: 'of',
  ago: '',
  justNow: 'just now',
  minutes: 'min ago',
  hours: 'h ago',
  days: 'days ago',
  aboveAlert: 'above the alert level',
  aboveDanger: 'above the danger level',
  alertLevel: 'Alert level',
  dangerLevel: 'Danger level',
  poorAir: 'poor air quality',
  signIn: 'Sign in',
  signOut: 'Sign out',
  apiKey: 'API key',
  tenant: 'Municipality (tenant)',
  tenantHint: 'empty for the default tenant or as platform admin',
  signInFailed: 'Sign-in failed',
  overview: 'Overview',
  entities: 'Entities',
  subscriptions: 'Subscriptions',
  devices: 'Devices',
  keys: 'Keys',
  audit: 'Audit log',
  type: 'Type',
  count: 'Count',
  filter: 'Filter',
  query: 'Query (q)',
  allTypes: 'all types',
  edit: 'Edit',
  save: 'Save',
  saved: 'Saved',
  create: 'Create',
  newEntity: 'New entity',
  delete: 'Delete',
  deleted: 'Deleted',
  revoke: 'Revoke',
  status: 'Status',
  name: 'Name',
  role: 'Role',
  created: 'Created',
  expires: 'Expires',
  lastSeen: 'Last seen',
  health: 'Health',
  silent: 'silent',
  erroring: 'erroring',
  healthy: 'healthy',
  accepted: 'accepted',
  rejected: 'rejected',
  sent: 'sent',
  failed: 'failed',
  endpoint: 'Endpoint',
  time: 'Time',
  subject: 'Who',
  action: 'Action',
  target: 'Target',
  nothing: 'No entries.',
  newKey: 'New key',
  keyOnce: 'The key is shown only now:',
  usage: 'Usage',
  requests: 'Requests',
  refused: 'refused',
  quota: 'Quota',
  failingSubs: 'Failing subscriptions',
  devicesHealth: 'Devices with problems',
  json: 'JSON (NGSI-LD, normalized)',
  more: 'More',
  next: 'Next',
  previous: 'Previous',
  needsTenant: 'Choose a municipality (tenant) for this.',
  checklist: 'Checklist',
  tenants: 'Tenants',
  newDevice: 'New device',
  opendata: 'Open data',
  newDataset: 'New dataset',
  suspend: 'Suspend',
  activate: 'Activate',
  mapArea: 'Only in the map area',
};

// Names of entity types and attributes the apps know; others are shown as they are.
const names: Record<Lang, Record<string, string>> = {
  de: {
    ParkingSpot: 'Parkplätze', OffStreetParking: 'Parkhäuser', FloodMonitoring: 'Pegel',
    AirQualityObserved: 'Luftqualität', WeatherObserved: 'Wetter', EVChargingStation: 'E-Ladesäulen',
    WasteContainer: 'Wertstoffcontainer', Streetlight: 'Straßenlaternen', GreenspaceRecord: 'Grünflächen',
    CrowdFlowObserved: 'Besucherzählung',
    status: 'Status', currentLevel: 'Wasserstand', alertLevel: 'Warnschwelle', dangerLevel: 'Gefahrenschwelle',
    floodLevelStatus: 'Hochwasserstufe', no2: 'Stickstoffdioxid (NO₂)', pm10: 'Feinstaub PM10', pm25: 'Feinstaub PM2,5',
    airQualityIndex: 'Luftqualitätsindex', temperature: 'Temperatur', precipitation: 'Niederschlag',
    relativeHumidity: 'Luftfeuchte', windSpeed: 'Wind', availableSpotNumber: 'Freie Plätze',
    totalSpotNumber: 'Plätze gesamt', name: 'Name', fillingLevel: 'Füllstand', powerState: 'Strom',
    category: 'Kategorie', availableCapacity: 'Freie Ladepunkte', capacity: 'Ladepunkte',
    free: 'frei', occupied: 'belegt', closed: 'geschlossen', unknown: 'unbekannt', normal: 'normal',
    alert: 'Warnung', danger: 'Gefahr', ok: 'in Ordnung', full: 'voll', defectiveLamp: 'Lampe defekt',
    on: 'an', off: 'aus', onStreet: 'am Straßenrand',
  },
  en: {
    ParkingSpot: 'Parking spots', OffStreetParking: 'Car parks', FloodMonitoring: 'Water levels',
    AirQualityObserved: 'Air quality', WeatherObserved: 'Weather', EVChargingStation: 'EV charging',
    WasteContainer: 'Recycling containers', Streetlight: 'Street lights', GreenspaceRecord: 'Green spaces',
    CrowdFlowObserved: 'People counting',
    status: 'Status', currentLevel: 'Water level', alertLevel: 'Alert level', dangerLevel: 'Danger level',
    floodLevelStatus: 'Flood stage', no2: 'Nitrogen dioxide (NO₂)', pm10: 'Particles PM10', pm25: 'Particles PM2.5',
    airQualityIndex: 'Air quality index', temperature: 'Temperature', precipitation: 'Precipitation',
    relativeHumidity: 'Humidity', windSpeed: 'Wind', availableSpotNumber: 'Free spaces',
    totalSpotNumber: 'Total spaces', name: 'Name', fillingLevel: 'Filling level', powerState: 'Power',
    category: 'Category', availableCapacity: 'Free charge points', capacity: 'Charge points',
    free: 'free', occupied: 'occupied', closed: 'closed', unknown: 'unknown', normal: 'normal',
    alert: 'alert', danger: 'danger', ok: 'ok', full: 'full', defectiveLamp: 'lamp defective',
    on: 'on', off: 'off', onStreet: 'on street',
  },
};

let lang: Lang = pick();

function pick(): Lang {
  try {
    const stored = localStorage.getItem('allmende.lang');
    if (stored === 'de' || stored === 'en') return stored;
  } catch {
    /* storage may be blocked */
  }
  return (navigator.language || 'de').toLowerCase().startsWith('en') ? 'en' : 'de';
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem('allmende.lang', l);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = l;
}

export function t(key: Key): string {
  return (lang === 'de' ? de : en)[key];
}

// A known type, attribute or value name in the current language, else the name itself.
export function label(name: string): string {
  return names[lang][name] ?? name;
}

// The language button of both apps: shows the other language and switches to it.
export function bindLangButton(button: HTMLElement, onChange: () => void): void {
  const render = () => {
    button.textContent = t('switchLang');
    button.setAttribute('aria-label', t('switchLangLabel'));
    button.setAttribute('lang', lang === 'de' ? 'en' : 'de');
  };
  document.documentElement.lang = lang;
  render();
  button.addEventListener('click', () => {
    setLang(lang === 'de' ? 'en' : 'de');
    render();
    onChange();
  });
}
