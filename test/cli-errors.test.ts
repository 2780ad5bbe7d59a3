// Bad invocations end with a clear message and exit code 2, never a stack trace.
import { describe, expect, it } from 'vitest';
import { fleetstat } from './support/fleetstat-cli.js';

describe('fleetstat usage errors', () => {
  it.each([
    [['netstat', '--bogus'], /unknown option '--bogus'/],
    [['netstat', '-tanq'], /unknown option '-q'/],
    [['netstat', '--netns', 'some'], /expected all or self/],
    [['netstat', '--http', '--http-ports', '80,http'], /invalid port or range "http"/],
    [['agent', '--once', '--interval', 'soon'], /invalid duration "soon"/],
    [['agent', '--once', '--interval', '1ms'], /expected between 100ms and 1h/],
    [['agent', '--once', '--proc', '/nonexistent'], /not a proc filesystem/],
    [['netstat', '-an', '--proc', '/nonexistent'], /not a proc filesystem/],
    [['agent', '--once', '--node', 'a b'], /--node "a b"/],
    [['agent', '--once', '--format', 'xml'], /expected json or proto/],
    [['agent', '--once', '--top-k', '-1'], /unknown option|expected a whole number/],
    [['agent', '--once', '--detail-rate', '0'], /expected requests per second from 0.01 to 100000/],
    [['agent', '--once', '--detail-rate', 'lots'], /expected requests per second/],
    [['up', '--count', '0'], /expected a positive whole number/],
    [['up', '--alert-warmup', 'x'], /expected a whole number from 1/],
    [['collector', '--grpc', '127.0.0.1:0', '--alert-k', '0'], /expected a number above 0/],
    [['collector', '--grpc', '127.0.0.1:0', '--accept-queue-limit', '-5'], /expected a whole number|unknown option/],
    [['collector', '--grpc', '127.0.0.1:0', '--alert-every', '0s'], /"0s": expected between 100ms and 1h/],
    [['collector', '--grpc', '127.0.0.1:0', '--retain-minutes', '1ms'], /"1ms": expected between 1h and 90d/],
    [['collector', '--grpc', '127.0.0.1:0', '--retain-hours', '99999d'], /"99999d": expected between 1d and 3650d/],
    [['collector', '--grpc', '127.0.0.1:0', '--retain-minutes', '30d', '--retain-hours', '7d'], /--retain-hours must be at least --retain-minutes/],
    [['collector', '--grpc', '127.0.0.1:0', '--detail-rate', '1e9'], /expected requests per second/],
    [['top', '--collector', 'http://127.0.0.1:1', '--watch', '--interval', '30d'], /"30d": expected between 100ms and 1h/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('%j', async (args, message) => {
    const { code, stderr } = await fleetstat(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a history directory that cannot be made fails start-up at once, naming why', async () => {
    const { code, stderr } = await fleetstat(['collector', '--grpc', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--data', '/proc/fleetstat-nope']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot open history database in \/proc\/fleetstat-nope: ENOENT/);
  });

  it('--help and --version exit 0', async () => {
    expect((await fleetstat(['--help'])).code).toBe(0);
    expect((await fleetstat(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
