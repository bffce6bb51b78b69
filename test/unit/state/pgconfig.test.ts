import { describe, expect, it } from "vitest";
import { StateError } from "../../../src/errors/index.js";
import { parsePgUrl, quoteIdent, scrubSecret, sslAttempts } from "../../../src/state/index.js";

describe("PostgreSQL connection settings", () => {
  it("parses a URL, takes the ssl parameters out, and redacts the password", () => {
    const u = parsePgUrl("postgres://stsorg:p%40ss:w0rd@db.example:6432/state?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x", "URL");
    // The same credentials, encoded as the URL standard writes them.
    expect(u.connectionString).toBe("postgres://stsorg:p%40ss%3Aw0rd@db.example:6432/state?application_name=x");
    expect(u.redacted).toBe("postgres://stsorg:***@db.example:6432/state?application_name=x");
    expect(u.password).toBe("p@ss:w0rd");
    expect(u).toMatchObject({ host: "db.example", sslmode: "verify-full", sslrootcert: "/etc/ca.pem" });
  });

  it("refuses what is not a postgres URL without repeating it", () => {
    const err = (() => {
      try {
        parsePgUrl("host=db password=hunter2", "${env:PG}");
      } catch (e) {
        return e as StateError;
      }
    })()!;
    expect(err).toBeInstanceOf(StateError);
    expect(err.message).not.toContain("hunter2");
    expect(() => parsePgUrl("mysql://u:hunter2@h/db", "URL")).toThrow(/expected postgres/);
    expect(() => parsePgUrl("postgres://h/db?sslmode=on", "URL")).toThrow(/sslmode=on/);
  });

  it("scrubs the password, also URL-encoded, from driver messages", () => {
    expect(scrubSecret('password authentication failed for "p@ss" (p%40ss)', "p@ss")).toBe('password authentication failed for "***" (***)');
    expect(scrubSecret("no password here", "")).toBe("no password here");
  });

  it("maps sslmode as libpq does", () => {
    const ca = "-----BEGIN CERTIFICATE-----";
    expect(sslAttempts("disable", undefined)).toEqual([false]);
    expect(sslAttempts("allow", undefined)).toEqual([false, { rejectUnauthorized: false }]);
    expect(sslAttempts("prefer", undefined)).toEqual([{ rejectUnauthorized: false }, false]);
    expect(sslAttempts("require", undefined)).toEqual([{ rejectUnauthorized: false }]);
    // require with a CA file verifies the chain, as libpq does with a root certificate present.
    const [requireCa] = sslAttempts("require", ca) as [Record<string, unknown>];
    expect(requireCa).toMatchObject({ rejectUnauthorized: true, ca });
    expect((requireCa.checkServerIdentity as () => unknown)()).toBeUndefined();
    const [verifyCa] = sslAttempts("verify-ca", ca) as [Record<string, unknown>];
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca });
    expect(typeof verifyCa.checkServerIdentity).toBe("function");
    const [verifyFull] = sslAttempts("verify-full", ca) as [Record<string, unknown>];
    expect(verifyFull).toEqual({ rejectUnauthorized: true, ca });
  });

  it("quotes identifiers so that no name breaks out", () => {
    expect(quoteIdent("stsorg")).toBe('"stsorg"');
    expect(quoteIdent('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
    expect(() => quoteIdent("")).toThrow(StateError);
  });
});
