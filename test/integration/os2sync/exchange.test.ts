import { Agent } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startOs2syncSandbox, type Os2syncSandbox } from "../../../src/sandbox/os2sync/index.js";
import { exchange, ExchangeError, splitUrl } from "../../../src/targets/os2sync/exchange.js";
import { CVR, unit, uuid } from "./helpers.js";

// The OS2sync client's transport against the sandbox OS2sync: what comes back, and how an exchange that
// gets no answer fails.

const API_KEY = "sandbox-key";
const headers = { cvr: CVR, apiKey: API_KEY };
let sb: Os2syncSandbox;
let agent: Agent;

beforeAll(async () => {
  sb = await startOs2syncSandbox({ cvr: CVR, apiKey: API_KEY, queueDelayMs: 0, queueIntervalMs: 10 });
});
afterEach(async () => {
  await agent?.close();
  sb.reset();
});
afterAll(async () => {
  await sb.stop();
});

describe("exchange", () => {
  it("returns the status, content type and whole body, also of an answer that arrives in many chunks", async () => {
    agent = new Agent({ connections: 2 });
    for (let n = 1; n <= 3000; n++) sb.store.put("orgunit", unit(n));
    const list = await exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers, timeoutMs: 10_000 });
    expect(list.status).toBe(200);
    expect(list.contentType).toMatch(/^application\/json/);
    expect(list.body.length).toBeGreaterThan(64 * 1024); // more than one read from the socket
    const uuids = JSON.parse(list.body) as string[];
    expect(uuids).toHaveLength(3000);
    expect(uuids).toContain(uuid(2999, "a"));

    const post = await exchange(agent, {
      ...splitUrl(`${sb.url}/orgUnit`),
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(unit(4000, undefined, { Name: "Børn og Unge" })),
      timeoutMs: 10_000,
    });
    expect(post.status).toBe(200);
    const refused = await exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers: { cvr: "12345678" }, timeoutMs: 10_000 });
    expect(refused.status).toBe(401);
  });

  it("fails at its deadline also while it waits for a connection, and the exchange ahead of it still completes", async () => {
    agent = new Agent({ connections: 1 });
    sb.faults.next({ action: "delay", delayMs: 800, method: "GET" });
    const order: string[] = [];
    const slow = exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers, timeoutMs: 10_000 }).then((a) => {
      order.push("slow answered");
      return a;
    });
    const queued = exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/${uuid(1, "a")}`), method: "GET", headers, timeoutMs: 100 }).catch((e: unknown) => {
      order.push("queued failed");
      return e;
    });
    const failure = await queued;
    expect(failure).toBeInstanceOf(ExchangeError);
    expect(failure).toMatchObject({ code: "ETIMEDOUT", timedOut: true, message: "no answer within 100 ms" });
    expect((await slow).status).toBe(200);
    expect(order).toEqual(["queued failed", "slow answered"]);
    // The connection is usable afterwards.
    expect((await exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers, timeoutMs: 10_000 })).status).toBe(200);
  });

  it("fails a stalled answer at its deadline, and a dropped or refused connection with its code", async () => {
    agent = new Agent({ connections: 2 });
    sb.faults.next({ action: "delay", delayMs: 1_000, method: "GET" });
    const stalled = await exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers, timeoutMs: 150 }).catch((e: unknown) => e);
    expect(stalled).toMatchObject({ code: "ETIMEDOUT", timedOut: true });

    sb.faults.next({ action: "drop", method: "GET" });
    const dropped = await exchange(agent, { ...splitUrl(`${sb.url}/orgUnit/all`), method: "GET", headers, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(ExchangeError);
    expect(dropped).toMatchObject({ timedOut: false });
    expect((dropped as ExchangeError).code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);

    const refused = await exchange(agent, { ...splitUrl("http://127.0.0.1:1/api/orgUnit"), method: "GET", headers, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "ECONNREFUSED", timedOut: false });
    expect((refused as ExchangeError).message).toMatch(/^ECONNREFUSED: /);
  });
});
