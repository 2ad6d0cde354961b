export { main } from "./cli.js";
export { formatSummary } from "./summary.js";
