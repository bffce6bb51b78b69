import { describe, expect, it } from "vitest";
import { danishMidnight } from "../../../src/sandbox/fk/index.js";
import { FUNCTION_TYPES, fkDate, orgUnitFromFk, ROBOT_USER_TYPE, unitAddressRoleOf, userFromFk, userAddressRoleOf } from "../../../src/targets/fk/index.js";

const U = (n: number) => `aaaaaaaa-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

describe("FK's dates as OS2sync's days", () => {
  it.each([
    ["2025-01-14T23:00:00Z", "2025-01-15"],
    ["2025-06-30T22:00:00Z", "2025-07-01"],
    ["2025-07-01T00:00:00+02:00", "2025-07-01"],
    ["2025-07-01", "2025-07-01"],
    ["2025-07-01T00:00:00", "2025-07-01"],
    ["9999-12-31T00:00:00Z", undefined],
    ["infinity", undefined],
    [null, undefined],
  ])("%s → %s", (input, day) => {
    expect(fkDate(input)).toBe(day);
  });

  it.each(["2025-01-15", "2025-03-30", "2025-07-01", "2025-10-26"])("reads back the sandbox's Danish midnight of %s", (day) => {
    expect(fkDate(danishMidnight(day))).toBe(day);
  });
});

describe("FK objects as OS2sync registrations", () => {
  it("maps addresses by role, takes the first of a role, ignores roles OS2sync does not know", () => {
    const unit = orgUnitFromFk({
      uuid: U(1).toUpperCase(),
      enhedsnavn: " Skole ",
      brugervendtNoegle: null,
      overordnetEnhed: { uuid: U(2) },
      adresser: [
        { adresseTekst: "a@b.dk", klassifikation: { rolle: unitAddressRoleOf("Email") } },
        { adresseTekst: "c@d.dk", klassifikation: { rolle: unitAddressRoleOf("Email") } },
        { adresseTekst: "x", klassifikation: { rolle: U(99) } },
        { adresseTekst: "12345678", klassifikation: { rolle: unitAddressRoleOf("PhoneNumber").toUpperCase() } },
      ],
      opgaver: [{ uuid: U(5) }, { uuid: U(4) }, { uuid: U(5) }],
      itSystemer: [],
      medlemskaber: [
        { funktionsTypeUuid: FUNCTION_TYPES.manager, bruger: { uuid: U(9) } },
        { funktionsTypeUuid: FUNCTION_TYPES.position, bruger: { uuid: U(3) } },
      ],
      henvendelsessteder: [
        { henvendelsesOrganisationEnhed: { uuid: U(1) }, opgave: { uuid: U(7) } },
        { henvendelsesOrganisationEnhed: { uuid: U(8) }, opgave: null },
      ],
    });
    expect(unit).toEqual({
      Uuid: U(1),
      Name: "Skole",
      ParentOrgUnitUuid: U(2),
      ManagerUuid: U(9),
      PhoneNumber: "12345678",
      Email: "a@b.dk",
      Tasks: [U(4), U(5)],
      ContactForTasks: [U(7)],
      ContactPlaces: [U(8)],
    });
  });

  it("keeps only 'Arbejder i' memberships as positions, and reads the robot type", () => {
    const { user, nameWithheld, cprMissing } = userFromFk(
      {
        uuid: U(3),
        brugernavn: "abc",
        brugerTypeUuid: ROBOT_USER_TYPE,
        person: { uuid: U(30), navn: "Robot", cpr: null },
        adresser: [{ adresseTekst: "RACF9", klassifikation: { rolle: userAddressRoleOf("RacfID") } }],
        harMedlemskab: [
          { funktionsTypeUuid: FUNCTION_TYPES.position, medlemskabRolleTitel: "Pedel", start: "2024-12-31T23:00:00Z", slut: null, medlemAf: { uuid: U(1) } },
          { funktionsTypeUuid: FUNCTION_TYPES.manager, medlemskabRolleTitel: "Leder", medlemAf: { uuid: U(2) } },
        ],
      },
      { withCpr: true },
    );
    expect(user).toEqual({
      Uuid: U(3),
      UserId: "abc",
      RacfID: "RACF9",
      IsRobot: true,
      Positions: [{ Name: "Pedel", OrgUnitUuid: U(1), StartDate: "2025-01-01" }],
      Person: { Name: "Robot" },
    });
    expect(nameWithheld).toBe(false);
    expect(cprMissing).toBe(true);
  });

  it("says when FK withheld the person's name", () => {
    expect(userFromFk({ uuid: U(3), brugernavn: "x", person: { uuid: U(4), navn: null } }, { withCpr: false }).nameWithheld).toBe(true);
  });
});
