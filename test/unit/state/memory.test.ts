import { MemoryStateBackend, memoryStore } from "../../../src/state/index.js";
import { backendConformance } from "./conformance.js";

backendConformance("memory", ({ now }) => {
  const store = memoryStore();
  return {
    open: (opts) => new MemoryStateBackend({ store, now, identity: opts?.identity }),
    corrupt: async () => {
      store.state = store.state!.slice(0, 40);
    },
  };
});
