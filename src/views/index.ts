/** Plan views: pure functions from a Plan (and options) to text. Colour is always decided by the caller. */
export { renderHuman, type HumanViewOptions } from "./human.js";
export { renderTree, type TreeViewOptions } from "./tree.js";
export { renderSummary, type SummaryViewOptions } from "./summary.js";
export { renderMarkdown, DEFAULT_MAX_CHARS, type MarkdownViewOptions } from "./markdown.js";
export { renderJson } from "./json.js";
export { planLine, NO_CHANGES } from "./format.js";
