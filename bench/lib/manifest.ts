/**
 * The benchmark's environment manifest: stage `test` against the loopback sandboxes. The certificate is
 * required by the schema but never opened by plan or apply; the secrets are environment references as
 * in a real manifest.
 */
export interface BenchManifest {
  cvr: string;
  municipality: string;
  moOrigin: string;
  os2syncUrl: string;
  topUnitUuid: string;
  adminTopUuid: string;
  moSecretEnv: string;
  os2syncKeyEnv: string;
  uuidItSystem: string;
}

export function manifestYaml(m: BenchManifest): string {
  return `# Written by bench/run.ts for one benchmark run; the sandboxes listen on loopback ports.
apiVersion: stsorg/v1
kind: Environment
metadata:
  name: bench
  description: "${m.municipality} — benchmark against sandbox OS2mo and OS2sync processes"
spec:
  stage: test
  municipality:
    name: ${m.municipality}
    cvr: "${m.cvr}"
    uuid: f4b5f47d-2699-4bb7-a0da-0612f52df091
  serviceAgreement:
    uuid: 1fea0854-5f52-474a-bbad-5fd895646923
    name: stsorg benchmark
    type: uden-videregivelse-af-data
    validFrom: "2019-09-05"
    validTo: null
    itSystemUuid: 89511fc4-dfea-4670-8216-dc5c2b49f834
    services:
      - name: Organisation v4.0
        uuid: 1e1c7d8d-b644-419c-a585-cb6486f04947
        roles:
          - name: Dummy
      - name: organisation2
        roles:
          - name: rediger
          - name: udstil
  certificate:
    path: unused.p12
    password: "\${env:STSORG_BENCH_CERT_PASSWORD}"
  sts:
    adminTopUuid: ${m.adminTopUuid}
  os2mo:
    url: ${m.moOrigin}
    auth:
      authServer: ${m.moOrigin}/auth
      clientId: stsorg
      clientSecret: "\${env:${m.moSecretEnv}}"
  os2sync:
    url: ${m.os2syncUrl}
    apiKey: "\${env:${m.os2syncKeyEnv}}"
  sync:
    topUnitUuid: ${m.topUnitUuid}
    syncManagers: true
    uuidFromItSystems: ["${m.uuidItSystem}"]
  safety:
    maxDeletes: { count: 50, percent: 5 }
    protectedUnits: []
    prune: managed
  state:
    backend: local
    path: state/bench.json
`;
}
