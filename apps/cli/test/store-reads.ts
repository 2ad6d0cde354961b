// What the reliability tests read from a SqliteSyncStore watching a run, through its bounded calls
// (statusCounts, listTasks), synchronously: the queue's tests' helpers, one copy for both.
export { countsOf, tasksOf } from "../../../packages/queue/test/store-reads.js";
