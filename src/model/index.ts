export * from "./mo.js";
export * from "./fk.js";
export * from "./normalise.js";
export * from "./states.js";
export * from "./state.js";
export * from "./plan.js";
export * from "./canonical.js";
export * from "./policy.js";
