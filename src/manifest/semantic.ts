import { copenhagenDate } from "../model/index.js";
import type { DocPath, Finding } from "./diagnostics.js";
import { isValidCvr, KOMBIT_TEST_CVR } from "./cvr.js";
import { hostsIn, isProductionHost, isTestHost } from "./endpoints.js";

/** UUID of the "Organisation v4" service: the same in the test and production environments. */
export const ORGANISATION_V4_SERVICE_UUID = "1e1c7d8d-b644-419c-a585-cb6486f04947";

/** How close to its end an agreement gets a warning. */
export const AGREEMENT_WARNING_DAYS = 30;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

const DAY_MS = 86_400_000;

/**
 * The Danish calendar day of `now`: agreements' and certificates' dates are plain Danish days, so an
 * agreement valid from 6 December is in force from midnight in Copenhagen (23:00 UTC the day before).
 */
export function dayOf(now: Date): string {
  return copenhagenDate(now);
}

function daysBetween(fromDay: string, toDay: string): number {
  return Math.round((Date.parse(`${toDay}T00:00:00Z`) - Date.parse(`${fromDay}T00:00:00Z`)) / DAY_MS);
}

const isDay = (s: string | undefined): s is string => s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s));

/**
 * The checks JSON Schema cannot express. Pure: the document as data, its string values with paths,
 * and the current time in; findings out. Robust against a document that also has schema errors.
 */
export function semanticFindings(value: unknown, strings: { path: DocPath; value: string }[], now: Date): Finding[] {
  const findings: Finding[] = [];
  const spec = obj(obj(value)?.spec);
  if (!spec) return findings;
  const stage = str(spec.stage);
  const err = (code: string, message: string, at: DocPath, atKey = false): void => void findings.push({ severity: "error", code, message, at, atKey });

  // CVR
  const cvr = str(obj(spec.municipality)?.cvr);
  if (cvr !== undefined && /^[0-9]{8}$/.test(cvr) && !isValidCvr(cvr)) {
    const at = ["spec", "municipality", "cvr"];
    if (cvr === KOMBIT_TEST_CVR && (stage === "test" || stage === "sandbox")) {
      findings.push({
        severity: "note",
        code: "cvr.kombit-test",
        message: `CVR ${cvr} is KOMBIT's test municipality: it fails the modulus-11 check and is accepted for stage ${stage} only`,
        at,
      });
    } else if (cvr === KOMBIT_TEST_CVR) {
      err("cvr.kombit-test", `CVR ${cvr} is KOMBIT's test municipality and cannot be used with stage ${stage ?? "prod"}; use the municipality's own CVR`, at);
    } else {
      err("cvr.checksum", `CVR ${cvr} fails the modulus-11 check (weights 2,7,6,5,4,3,2,1); check it for a typo`, at);
    }
  }

  // Stage against the hosts the manifest names.
  if (stage === "prod" || stage === "test") {
    for (const s of strings) {
      for (const host of hostsIn(s.value)) {
        if (stage === "prod" && isTestHost(host)) {
          err("stage.host", `a prod manifest names the external test host ${host}; use the production host or stage: test`, s.path);
        } else if (stage === "test" && isProductionHost(host)) {
          err("stage.host", `a test manifest names the production host ${host}; use the eksterntest host or stage: prod`, s.path);
        }
      }
    }
  }

  const agreement = obj(spec.serviceAgreement);
  if (agreement) findings.push(...agreementFindings(agreement, obj(spec.sync)?.syncCpr === true, now));

  const fk = obj(spec.fk);
  if (fk?.tlsMinVersion === "TLSv1.3" && fk.tlsMaxVersion === undefined) {
    err("fk.tls", "tlsMinVersion TLSv1.3 is above the default tlsMaxVersion TLSv1.2; set tlsMaxVersion: TLSv1.3 too", ["spec", "fk", "tlsMinVersion"]);
  } else if (fk?.tlsMinVersion === "TLSv1.3" && fk.tlsMaxVersion === "TLSv1.2") {
    err("fk.tls", "tlsMinVersion TLSv1.3 is above tlsMaxVersion TLSv1.2", ["spec", "fk", "tlsMinVersion"]);
  }

  // A connection string with an inline password is a literal secret too.
  const pgUrl = str(obj(obj(spec.state)?.postgres)?.url);
  if (pgUrl !== undefined && !pgUrl.trim().startsWith("${") && /:\/\/[^/@:]+:[^/@]+@/.test(pgUrl)) {
    err(
      "secret.literal",
      "the PostgreSQL URL holds a password: write the whole URL as a reference, ${env:NAME} or ${file:PATH}",
      ["spec", "state", "postgres", "url"],
    );
  }
  return findings;
}

function agreementFindings(agreement: Obj, syncCpr: boolean, now: Date): Finding[] {
  const findings: Finding[] = [];
  const base: DocPath = ["spec", "serviceAgreement"];
  const err = (code: string, message: string, at: DocPath, atKey = false): void => void findings.push({ severity: "error", code, message, at, atKey });

  const services = arr(agreement.services);
  if (Array.isArray(agreement.services)) {
    const withFixed = services.findIndex((s) => str(obj(s)?.uuid)?.toLowerCase() === ORGANISATION_V4_SERVICE_UUID);
    if (withFixed < 0) {
      const named = services.findIndex((s) => /organisation\s*[-–]?\s*v\.?\s*4/i.test(str(obj(s)?.name) ?? ""));
      const namedUuid = named >= 0 ? str(obj(services[named])?.uuid) : undefined;
      if (named >= 0 && namedUuid !== undefined) {
        err(
          "agreement.service-uuid",
          `the Organisation v4 service has uuid ${ORGANISATION_V4_SERVICE_UUID} in every environment, not ${namedUuid}`,
          [...base, "services", named, "uuid"],
        );
      } else if (named >= 0) {
        err("agreement.service-uuid", `give the Organisation v4 service its uuid: ${ORGANISATION_V4_SERVICE_UUID}`, [...base, "services", named], true);
      } else {
        err(
          "agreement.service-missing",
          `the agreement must include the service "Organisation v4.0" (uuid ${ORGANISATION_V4_SERVICE_UUID})`,
          [...base, "services"],
          true,
        );
      }
    }

    const roles: { name: string; params: Obj; at: DocPath }[] = [];
    services.forEach((s, i) =>
      arr(obj(s)?.roles).forEach((r, j) => {
        const name = str(obj(r)?.name);
        if (name !== undefined) roles.push({ name: name.toLowerCase(), params: obj(obj(r)?.parameters) ?? {}, at: [...base, "services", i, "roles", j] });
      }),
    );
    const need: [string, string][] = [
      ["udstil", "plan needs it to read STS Organisation"],
      ["rediger", "apply needs it to write to STS Organisation"],
    ];
    for (const [role, why] of need) {
      const found = roles.filter((r) => r.name === role);
      if (found.length === 0) {
        err("agreement.role-missing", `the agreement has no role "${role}" (on organisation2): ${why}`, [...base, "services"], true);
      } else if (syncCpr && !found.some((r) => String(r.params["secpr-nummer"] ?? "").toLowerCase() === "ja")) {
        err(
          "agreement.secpr",
          `sync.syncCpr is true, so role "${role}" needs the parameter secpr-nummer: Ja (without it FK refuses CPR numbers)`,
          found[0]!.at,
        );
      }
    }
  }

  const today = dayOf(now);
  const validFrom = str(agreement.validFrom);
  const validTo = str(agreement.validTo);
  if (isDay(validFrom) && validFrom > today) {
    err("agreement.not-yet-valid", `the service agreement is valid from ${validFrom}, which is in the future (today is ${today})`, [...base, "validFrom"]);
  }
  if (isDay(validTo)) {
    if (validTo < today) {
      err("agreement.expired", `the service agreement expired on ${validTo}; renew it in STS Administration and update validTo`, [...base, "validTo"]);
    } else {
      const left = daysBetween(today, validTo);
      if (left <= AGREEMENT_WARNING_DAYS) {
        findings.push({
          severity: "warning",
          code: "agreement.expires-soon",
          message: `the service agreement expires on ${validTo} (in ${left} day${left === 1 ? "" : "s"}); renew it in STS Administration`,
          at: [...base, "validTo"],
        });
      }
    }
    if (isDay(validFrom) && validTo < validFrom) {
      err("agreement.dates", `validTo ${validTo} is before validFrom ${validFrom}`, [...base, "validTo"]);
    }
  }
  return findings;
}
