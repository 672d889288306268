// Stand-in for the application's own code (not quoted in the README): an i18n library.

const catalog = new Map<string, string>([['error.RATE_LIMITED', 'Doucement !']]);

export const i18n = {
  exists: (key: string): boolean => catalog.has(key),
  t: (key: string, params: Readonly<Record<string, unknown>>): string =>
    (catalog.get(key) ?? key).replace(/\{(\w+)\}/g, (_all, name: string) => String(params[name] ?? '')),
};
