import { TracingWsClient } from '@tracing-ws/client';
import { i18n } from './i18n.js'; // your i18n library

const url = '/chat';
// Some texts overridden:
export const french = new TracingWsClient({ url, messages: { 'error.RATE_LIMITED': 'Doucement !', support: 'Référence : {traceId}' } });
// Every text from a translate function (undefined: the built-in text):
export const translated = new TracingWsClient({ url, messages: (key, params) => (i18n.exists(key) ? i18n.t(key, params) : undefined) });
