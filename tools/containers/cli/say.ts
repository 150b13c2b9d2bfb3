/** Progress lines with the seconds since the command started: "[containers +12s] ...". */
export function timedSay(prefix = 'containers'): (line: string) => void {
  const started = Date.now();
  return (line) => console.log(`[${prefix} +${Math.round((Date.now() - started) / 1000)}s] ${line}`);
}
