import type { Stage } from "./types.js";

/** The KOMBIT endpoints a stage implies; shown by `validate` so a person can see which FK is meant. */
export interface StageEndpoints {
  stage: Stage;
  /** OS2sync's `Environment` setting. */
  os2syncEnvironment: "TEST" | "PROD" | null;
  stsAdministration: string | null;
  /** FK Organisation SOAP endpoint used by OS2sync 4.x. */
  fkOrganisation: string | null;
  /** Serviceplatformen endpoint used by OS2sync 3.x and older. */
  serviceplatformen: string | null;
  fkGraphql: string | null;
  fkToken: string | null;
}

export function endpointsFor(stage: Stage): StageEndpoints {
  switch (stage) {
    case "test":
      return {
        stage,
        os2syncEnvironment: "TEST",
        stsAdministration: "https://organisation.eksterntest-stoettesystemerne.dk/sts-rest-organisation/#/administrativ/",
        fkOrganisation: "https://organisation.eksterntest-stoettesystemerne.dk/organisation/",
        serviceplatformen: "https://exttest.serviceplatformen.dk/service/Organisation/",
        fkGraphql: "https://organisation.eksterntest-stoettesystemerne.dk/organisation/organisationhent/1",
        fkToken: "https://n2adgangsstyring.eksterntest-stoettesystemerne.dk/runtime/api/rest/oauth/v1/issue",
      };
    case "prod":
      return {
        stage,
        os2syncEnvironment: "PROD",
        stsAdministration: "https://organisation.stoettesystemerne.dk/sts-rest-organisation/#/administrativ/",
        fkOrganisation: "https://organisation.stoettesystemerne.dk/organisation/",
        serviceplatformen: "https://prod.serviceplatformen.dk/service/Organisation/",
        fkGraphql: "https://organisation.stoettesystemerne.dk/organisation/organisationhent/1",
        fkToken: "https://n2adgangsstyring.stoettesystemerne.dk/runtime/api/rest/oauth/v1/issue",
      };
    case "sandbox":
      return {
        stage,
        os2syncEnvironment: null,
        stsAdministration: null,
        fkOrganisation: null,
        serviceplatformen: null,
        fkGraphql: null,
        fkToken: null,
      };
  }
}

/** Hosts of KOMBIT's external test environment. */
export function isTestHost(host: string): boolean {
  return /(^|[.-])(eksterntest|exttest)([.-]|$)/i.test(host);
}

/** Hosts of KOMBIT's production environment (Støttesystemerne, Serviceplatformen). */
export function isProductionHost(host: string): boolean {
  const h = host.toLowerCase();
  if (isTestHost(h)) return false;
  return /(^|\.)stoettesystemerne\.dk$/.test(h) || /(^|\.)serviceplatformen\.dk$/.test(h);
}

/** Host names mentioned in a string value (URLs, or a bare KOMBIT host name). */
export function hostsIn(value: string): string[] {
  const hosts: string[] = [];
  for (const m of value.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^/\s:?#]+)/gi)) hosts.push(m[1]!.toLowerCase());
  if (hosts.length === 0 && /^[a-z0-9.-]+\.(stoettesystemerne|serviceplatformen)\.dk$/i.test(value.trim())) {
    hosts.push(value.trim().toLowerCase());
  }
  return hosts;
}
