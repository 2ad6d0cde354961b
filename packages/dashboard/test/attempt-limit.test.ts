// The limit on wrong tokens by itself: its keys, its windows and its bound on memory, on a clock
// the test moves (the dashboard's side, 429s and logs, is in dashboard.test.ts).
import { describe, expect, it } from "vitest";
import { AttemptLimit, clientKey } from "../src/attempt-limit.js";

describe("the limit on wrong tokens", () => {
  it("counts a client by its address, IPv4-mapped as IPv4, an IPv6 address by its /64", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("2001:db8:0:7::1")).toBe("2001:db8:0:7::/64");
    expect(clientKey("2001:0DB8:0000:0007:abcd:1:2:3")).toBe("2001:db8:0:7::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey(null)).toBe("unknown");
    expect(clientKey("")).toBe("unknown");
  });

  it("locks a client out at its limit for the window, and everyone at the overall one", () => {
    let t = 0;
    const limit = new AttemptLimit(() => t, { perClient: 3, overall: 5, windowMs: 1_000, maxClients: 100 });
    expect([limit.fail("a"), limit.fail("a")]).toEqual([
      { failures: 1, waitMs: 0 },
      { failures: 2, waitMs: 0 },
    ]);
    t = 500;
    expect(limit.fail("a")).toEqual({ failures: 3, waitMs: 1_000 });
    expect([limit.waitMs("a"), limit.waitMs("b")]).toEqual([1_000, 0]);
    limit.fail("b");
    expect(limit.fail("c")).toEqual({ failures: 1, waitMs: 1_000 }); // the fifth overall
    expect(limit.waitMs("d")).toBe(1_000);
    t = 1_500;
    expect([limit.waitMs("a"), limit.waitMs("d")]).toEqual([0, 0]);
    expect(limit.fail("a")).toEqual({ failures: 1, waitMs: 0 }); // a fresh window
    // a right token clears its client's count
    limit.fail("a");
    limit.succeed("a");
    expect(limit.fail("a").failures).toBe(1);
  });

  it("remembers at most maxClients, and forgets those whose window has passed", () => {
    let t = 0;
    const limit = new AttemptLimit(() => t, {
      perClient: 10,
      overall: 1_000_000,
      windowMs: 1_000,
      maxClients: 50,
    });
    for (let i = 0; i < 10_000; i++) limit.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(limit.size).toBe(50);
    t = 2_000;
    limit.fail("192.0.2.1");
    expect(limit.size).toBe(1);
  });
});
