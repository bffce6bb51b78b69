import { StateError } from "../errors/index.js";
import {
  canonicalJson,
  sha256Hex,
  STATE_FORMAT_VERSION,
  type Attributes,
  type ResourceAddress,
  type StateFile,
  type StateResource,
} from "../model/index.js";

/**
 * Pure helpers over StateFile. Each change returns a new state with the serial raised by one, so a
 * state that was changed can never be written back under its old serial.
 */

export interface NewStateInit {
  /** A fresh random UUID: set here once and never changed. */
  lineage: string;
  environment: string;
  cvr: string;
  admin_top_uuid: string;
  tool_version: string;
}

export function newState(init: NewStateInit): StateFile {
  return {
    format_version: STATE_FORMAT_VERSION,
    lineage: init.lineage,
    serial: 0,
    environment: init.environment,
    cvr: init.cvr,
    admin_top_uuid: init.admin_top_uuid.toLowerCase(),
    tool_version: init.tool_version,
    resources: [],
    pending: [],
  };
}

export function attributesSha256(attributes: Attributes): string {
  return sha256Hex(canonicalJson(attributes));
}

export function compareAddress(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function findResource(state: StateFile, address: string): StateResource | undefined {
  const i = indexOf(state.resources, address);
  return i >= 0 ? state.resources[i] : undefined;
}

/** Inserts or replaces the resource at its address (kept sorted); serial + 1. */
export function putResource(state: StateFile, resource: StateResource): StateFile {
  const resources = state.resources.slice();
  const i = indexOf(resources, resource.address);
  if (i >= 0) resources[i] = resource;
  else resources.splice(-i - 1, 0, resource);
  return { ...state, serial: state.serial + 1, resources };
}

/** Forgets the resource at `address`; serial + 1. A StateError if it is not in state. */
export function removeResource(state: StateFile, address: ResourceAddress | string): StateFile {
  const i = indexOf(state.resources, address);
  if (i < 0) {
    throw new StateError(`No resource ${address} in state.`, { hint: "Run `stsorg state list` to see the addresses in state." });
  }
  const resources = state.resources.slice();
  resources.splice(i, 1);
  return { ...state, serial: state.serial + 1, resources };
}

/** Binary search in the sorted resource list: the index, or -(insertion point) - 1. */
function indexOf(resources: readonly StateResource[], address: string): number {
  let lo = 0;
  let hi = resources.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareAddress(resources[mid]!.address, address);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}
