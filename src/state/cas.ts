import { LockError, StateError } from "../errors/index.js";
import type { StateFile } from "../model/index.js";
import type { ExpectedVersion, LockInfo } from "./types.js";

/** The compare-and-swap rule every backend applies before it stores `next`. */
export function checkCas(
  stored: { lineage: string; serial: number } | null,
  next: StateFile,
  expected: ExpectedVersion,
  where: string,
): void {
  const hint = "Another run changed the state since it was read. Run plan again.";
  if (stored === null) {
    if (expected.lineage !== null || expected.serial !== null) {
      throw new StateError(
        `State write refused: ${where} holds no state, but lineage ${expected.lineage} serial ${expected.serial} was expected.`,
        { hint },
      );
    }
  } else {
    if (expected.lineage === null) {
      throw new StateError(
        `State write refused: ${where} already holds a state (lineage ${stored.lineage}, serial ${stored.serial}); a new state was about to replace it.`,
        { hint },
      );
    }
    if (stored.lineage !== expected.lineage || stored.serial !== expected.serial) {
      throw new StateError(
        `State write refused: ${where} holds lineage ${stored.lineage} serial ${stored.serial}, but lineage ${expected.lineage} serial ${expected.serial} was expected.`,
        { hint },
      );
    }
  }
  if (expected.lineage !== null && next.lineage === expected.lineage && next.serial <= (expected.serial ?? -1)) {
    throw new StateError(
      `State write refused: the new state has serial ${next.serial}, which does not follow serial ${expected.serial}.`,
      { hint: "Every change must raise the serial." },
    );
  }
}

/** Refuses a write made under a lock that is no longer held (expired and taken over, or force-unlocked). */
export function checkLockHeld(current: LockInfo | null, lockId: string | undefined, where: string): void {
  if (lockId === undefined) return;
  if (current === null || current.ID !== lockId) {
    throw new LockError(
      `State write refused: the state lock ${lockId} is no longer held on ${where}` +
        (current ? ` (now held by ${current.Who} for "${current.Operation}", ID ${current.ID}).` : "."),
      { hint: "The lock expired and was taken over, or was released with `state unlock`. Run the command again." },
    );
  }
}

export function noLockError(id: string, current: LockInfo | null, where: string): LockError {
  if (current === null) return new LockError(`No lock to release on ${where} (ID ${id}).`, { hint: "The state is not locked." });
  return new LockError(`Lock ID ${id} does not match the lock held on ${where} (ID ${current.ID}, ${current.Who}, "${current.Operation}").`, {
    hint: `To release that lock: stsorg state unlock -e ENV ${current.ID}`,
  });
}
