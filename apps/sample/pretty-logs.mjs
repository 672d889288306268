#!/usr/bin/env node
// Reads pino's JSON lines on stdin and prints them for people: local time with
// milliseconds, the level's name, the message, then the other fields as key=value;
// errors with their stack below. Lines that are not JSON pass through unchanged.
// No dependencies, any Node >= 18:
//   npm start --silent | node apps/sample/pretty-logs.mjs
import { createInterface } from 'node:readline';

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS = { TRACE: 90, DEBUG: 36, INFO: 32, WARN: 33, ERROR: 31, FATAL: 35 };
/** Fields every line has, or that the head of the line already shows. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'context', 'err', 'req', 'res', 'responseTime']);
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

function clock(time) {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function show(value) {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

function format(entry) {
  const level = LEVELS[entry.level] ?? String(entry.level ?? '').toUpperCase();
  const parts = [clock(entry.time), paint(COLORS[level] ?? 0, level.padEnd(5))];
  if (entry.context) parts.push(paint(90, `[${entry.context}]`));
  parts.push(String(entry.msg ?? ''));
  // pino-http's request lines: the request in one short phrase.
  if (entry.req && typeof entry.req === 'object') {
    const status = entry.res && typeof entry.res === 'object' ? ` -> ${entry.res.statusCode}` : '';
    const took = entry.responseTime !== undefined ? ` ${entry.responseTime} ms` : '';
    parts.push(`${entry.req.method} ${entry.req.url}${status}${took}`);
  }
  for (const [key, value] of Object.entries(entry)) {
    if (!HIDDEN.has(key) && value !== undefined) parts.push(`${paint(90, `${key}=`)}${show(value)}`);
  }
  let text = parts.join(' ');
  const err = entry.err;
  if (err && typeof err === 'object') {
    const stack = typeof err.stack === 'string' && err.stack !== '' ? err.stack : `${err.type ?? 'Error'}: ${err.message ?? ''}`;
    text += `\n${stack.replace(/^/gm, '    ')}`;
  }
  return text;
}

// Ctrl-C reaches every process of the pipeline: keep reading, so that the app's
// shutdown lines are shown; the end of the pipe (the app exited) stops us. A second
// Ctrl-C, for an app that does not stop, ends us at once.
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
});
// Our own reader gone (`| head`): nothing left to do.
process.stdout.on('error', () => process.exit(0));

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = undefined;
  }
  process.stdout.write(`${entry && typeof entry === 'object' && !Array.isArray(entry) ? format(entry) : line}\n`);
});
