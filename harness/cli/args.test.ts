import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.js';

describe('parseCommand', () => {
  it('runs a library scenario at real time by default', () => {
    expect(parseCommand(['rate-limit-storm'])).toEqual({ kind: 'run', target: { name: 'rate-limit-storm' }, speed: 1, virtual: false, stack: 'auto', stackDefaulted: true, json: false, redis: false });
  });

  it('reads --speed, --stack, --json and --report', () => {
    expect(parseCommand(['calm-day', '--speed', '10', '--stack', 'containers', '--json', '--report', 'out.html'])).toEqual({
      kind: 'run',
      target: { name: 'calm-day' },
      speed: 10,
      virtual: false,
      stack: 'containers',
      stackDefaulted: false,
      json: true,
      redis: false,
      report: 'out.html',
    });
  });

  it('reads a fleet: --calls N and --redis override the scenario', () => {
    expect(parseCommand(['fleet-storm', '--calls', '12', '--redis'])).toMatchObject({ kind: 'run', calls: 12, redis: true });
    expect(parseCommand(['fleet-storm'])).not.toHaveProperty('calls');
    expect(parseCommand(['calm-day', '--json', '--calls', '3'])).toMatchObject({ stack: 'inline', stackDefaulted: true, calls: 3 });
  });

  it('plays --json on virtual time (the inline stack) unless a speed or a stack is asked for', () => {
    expect(parseCommand(['calm-day', '--json'])).toMatchObject({ stack: 'inline', json: true });
    expect(parseCommand(['calm-day', '--json', '--speed', '10'])).toMatchObject({ stack: 'auto', speed: 10 });
    expect(parseCommand(['calm-day', '--json', '--stack', 'processes'])).toMatchObject({ stack: 'processes', virtual: true });
    expect(parseCommand(['calm-day', '--json', '--stack', 'containers'])).toMatchObject({ stack: 'containers', virtual: true });
    expect(parseCommand(['calm-day', '--json', '--stack', 'containers', '--speed', '5'])).toMatchObject({ stack: 'containers', virtual: false, speed: 5 });
    expect(parseCommand(['calm-day', '--json', '--stack', 'auto'])).toMatchObject({ stack: 'auto', virtual: false });
    expect(parseCommand(['calm-day', '--json', '--agent', 'my-agent.ts'])).toMatchObject({ stack: 'auto', virtual: false });
    expect(parseCommand(['calm-day', '--stack', 'inline'])).toMatchObject({ stack: 'inline', json: false, virtual: true });
  });

  it('--speed virtual: the inline stack, or the process or container stack on the runner\'s clock; never auto or --agent', () => {
    expect(parseCommand(['calm-day', '--speed', 'virtual'])).toMatchObject({ stack: 'inline', virtual: true });
    expect(parseCommand(['calm-day', '--speed', 'virtual', '--stack', 'processes'])).toMatchObject({ stack: 'processes', virtual: true });
    expect(parseCommand(['calm-day', '--stack', 'processes'])).toMatchObject({ stack: 'processes', virtual: false });
    expect(parseCommand(['calm-day', '--speed', 'virtual', '--stack', 'containers'])).toMatchObject({ stack: 'containers', virtual: true });
    expect(parseCommand(['calm-day', '--stack', 'containers'])).toMatchObject({ stack: 'containers', virtual: false });
    expect(parseCommand(['calm-day', '--speed', 'virtual', '--stack', 'auto'])).toEqual({ kind: 'usage', message: expect.stringMatching(/auto picks one itself/) });
    expect(parseCommand(['calm-day', '--speed', 'virtual', '--stack', 'processes', '--agent', 'a.ts'])).toEqual({ kind: 'usage', message: expect.stringMatching(/--agent plays on wall time/) });
  });

  it('takes an agent module to rehearse instead of holdline\'s agent', () => {
    expect(parseCommand(['rate-limit-storm', '--agent', './my-agent.ts'])).toMatchObject({ kind: 'run', agent: './my-agent.ts' });
    expect(parseCommand(['rate-limit-storm'])).not.toHaveProperty('agent');
  });

  it('takes a file outside the library', () => {
    expect(parseCommand(['--file', './mine.yaml'])).toMatchObject({ kind: 'run', target: { file: './mine.yaml' } });
  });

  it.each([
    [['--speed', '0', 'calm-day'], /--speed: expected a positive number or virtual/],
    [['--speed', 'fast', 'calm-day'], /--speed: expected a positive number/],
    [['a', 'b'], /expected one scenario name, got 2/],
    [['calm-day', '--file', 'x.yaml'], /not both/],
    [[], /which scenario\?/],
    [['calm-day', '--colour'], /Unknown option '--colour'/],
    [['--list', 'calm-day'], /--list takes no scenario name/],
    [['calm-day', '--stack', 'vm'], /--stack: expected processes, containers, inline, auto, got "vm"/],
    [['calm-day', '--calls', '0'], /--calls: expected a whole number of calls from 1 to 50, got "0"/],
    [['calm-day', '--calls', '2.5'], /--calls: expected a whole number of calls from 1 to 50, got "2.5"/],
    [['calm-day', '--calls', '51'], /--calls: expected a whole number of calls from 1 to 50, got "51"/],
    [['calm-day', '--redis', 'yes'], /expected one scenario name, got 2/],
    [['calm-day', '--agent', 'my-agent.py'], /--agent: expected a module file ending in \.ts, \.mts, \.js or \.mjs/],
  ])('rejects %j', (argv, message) => {
    const command = parseCommand(argv);
    expect(command.kind).toBe('usage');
    expect(command.kind === 'usage' && command.message).toMatch(message);
  });

  it('lists and helps', () => {
    expect(parseCommand(['--list'])).toEqual({ kind: 'list' });
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
  });

  it('says how to get options past npm when npm kept them', () => {
    // `npm run scenario calm-day --speed 10` gives the script ["calm-day", "10"] and npm_config_speed=true.
    const command = parseCommand(['calm-day', '10'], { npm_config_speed: 'true' });
    expect(command).toEqual({ kind: 'usage', message: expect.stringContaining('npm run scenario -- rate-limit-storm --speed 10') });
  });
});
