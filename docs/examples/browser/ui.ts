// Stand-in for the application's own code (not quoted in the README).

export function status(text: string): void {
  document.title = text;
}

export function show(user: string, text: string, traceId: string | undefined): void {
  document.body.append(`${user}: ${text} (${traceId ?? 'no trace id'})`);
}

export function showError(text: string, supportText: string | undefined): void {
  document.body.append(supportText ? `${text} ${supportText}` : text);
}
