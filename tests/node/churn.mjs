// Drives a Firestarter host with Trigger.dev's own clients, as the managed run controller uses them:
// WarmStartClient (connect, then long polls that abort at connectionTimeoutMs and re-poll at once) and
// WorkloadHttpClient.startRunAttempt (the controller's first call after taking a run). Dispatchers post runs to
// POST /warm-start and record each answer; the summary compares answers with what controllers received.
//
// Usage: node churn.mjs '<json settings>'   (see `defaults` below); writes the summary as JSON to settings.out.
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { WarmStartClient } from "@trigger.dev/core/v3/workers";
import { WorkloadHttpClient } from "@trigger.dev/core/v3/runEngineWorker";

const defaults = {
  broker: "http://127.0.0.1:8080",
  controllers: 40,
  deployments: 20,
  dispatchers: 4,
  durationMs: 4000,
  // Controllers call attempts/start after taking a run (as the real controller does).
  startAttempts: true,
  // Share of runs whose controller takes the run and dies before attempts/start (a replacement starts).
  dieFraction: 0,
  // A taken run "executes" for a random time up to this before the controller polls again.
  maxRunMs: 20,
  // Runs a controller takes after the dispatchers stop are still counted; this is how long to wait for them.
  settleMs: 500,
  warmupMs: 1000,
  // Each dispatcher pauses a random 0 to 2x this between dispatches, so that controllers sit idle through several
  // poll timeouts between runs, as in production; 0 dispatches back to back.
  pauseMs: 0,
  out: "churn-summary.json",
};
const settings = { ...defaults, ...JSON.parse(process.argv[2] ?? "{}") };

// The clients log every timed-out poll; at a compressed timeout that is thousands of lines.
if (!process.env.VERBOSE) {
  for (const method of ["log", "info", "warn", "error", "debug"]) {
    console[method] = () => {};
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const version = "20261207.1";
const cpu = "0.5";
const memory = "1";
const deploymentOf = (i) => `deployment_${i % settings.deployments}`;

// Per deployment: controllers inside warmStart() right now (parked, or between a timed-out poll and the next), and
// how many of them a dispatch has already been sent for (released when the run arrives or the answer is false), so
// that dispatchers do not aim two runs at one controller.
const polling = new Array(settings.deployments).fill(0);
const reserved = new Array(settings.deployments).fill(0);
const reservations = new Map(); // run id -> deployment
function release(runId) {
  const deployment = reservations.get(runId);
  if (deployment !== undefined) {
    reservations.delete(runId);
    reserved[deployment]--;
  }
}
const received = new Map(); // run id -> times received
const started = new Set(); // runs whose controller called attempts/start
const died = new Set(); // runs whose controller died holding them
let running = true;
let nextController = 0;
let connectionTimeoutMs = 0;
const controllers = new Set();

async function controller(index) {
  const id = `controller_${index}`;
  const deployment = index % settings.deployments;
  const warm = new WarmStartClient({
    apiUrl: new URL(settings.broker),
    controllerId: id,
    deploymentId: deploymentOf(deployment),
    deploymentVersion: version,
    machineCpu: cpu,
    machineMemory: memory,
  });
  const workload = new WorkloadHttpClient({
    workerApiUrl: settings.broker,
    runnerId: `runner_${index}`,
    deploymentId: deploymentOf(deployment),
    deploymentVersion: version,
    projectRef: "proj_churn",
  });
  const self = { warm };
  controllers.add(self);
  try {
    const connect = await warm.connect();
    if (!connect.success) {
      throw new Error(`connect failed: ${connect.error}`);
    }

    connectionTimeoutMs = connect.data.connectionTimeoutMs;
    while (running || self.settling) {
      polling[deployment]++;
      let run;
      try {
        run = await warm.warmStart({
          workerInstanceName: "churn-node",
          connectionTimeoutMs: connect.data.connectionTimeoutMs,
          keepaliveMs: connect.data.keepaliveMs,
        });
      } finally {
        polling[deployment]--;
      }

      if (!run) {
        return; // aborted at the end, or keepalive exceeded
      }

      const runId = run.run.friendlyId;
      received.set(runId, (received.get(runId) ?? 0) + 1);
      release(runId);
      if (settings.dieFraction > 0 && Math.random() < settings.dieFraction) {
        died.add(runId);
        if (running) {
          spawn(); // the platform would start another pod
        }
        return;
      }

      if (settings.startAttempts) {
        // The test's workload API answers 400 with x-should-retry: false; what matters is that the call was made.
        await workload.startRunAttempt(runId, run.snapshot.friendlyId, { isWarmStart: true });
        started.add(runId);
      }

      await sleep(Math.random() * settings.maxRunMs);
    }
  } finally {
    controllers.delete(self);
  }
}

const controllerTasks = [];
function spawn() {
  controllerTasks.push(controller(nextController++));
}

function message(runId, deployment) {
  return {
    version: "1",
    snapshot: {
      id: `snap_${runId}`,
      friendlyId: `snapshot_${runId}`,
      executionStatus: "PENDING_EXECUTING",
      description: "Run was dequeued for execution",
      createdAt: new Date().toISOString(),
    },
    dequeuedAt: new Date().toISOString(),
    completedWaitpoints: [],
    backgroundWorker: { id: "bw_1", friendlyId: "worker_1", version },
    deployment: { id: `dep_${deployment}`, friendlyId: deploymentOf(deployment), imagePlatform: "linux/amd64" },
    run: {
      id: `internal_${runId}`,
      friendlyId: runId,
      isTest: false,
      isReplay: false,
      machine: { name: "small-1x", cpu: Number(cpu), memory: Number(memory), centsPerMs: 0.0001 },
      attemptNumber: 1,
      masterQueue: "main",
      traceContext: {},
    },
    environment: { id: "env_1", type: "PRODUCTION" },
    organization: { id: "org_1" },
    project: { id: "proj_1" },
  };
}

const answers = new Map(); // run id -> true | false
const durations = [];
const errors = [];
let runSeq = 0;

async function dispatcher(index) {
  while (running) {
    // Only deployments with a controller inside warmStart(): the question is what happens to runs that a live
    // controller could take, not how often a random deployment has none.
    const candidates = [];
    for (let d = 0; d < settings.deployments; d++) {
      if (polling[d] - reserved[d] > 0) candidates.push(d);
    }

    if (candidates.length === 0) {
      await sleep(1);
      continue;
    }

    const deployment = candidates[Math.floor(Math.random() * candidates.length)];
    const runId = `run_${index}_${runSeq++}`;
    reserved[deployment]++;
    reservations.set(runId, deployment);
    const begun = performance.now();
    try {
      const response = await fetch(new URL("/warm-start", settings.broker), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dequeuedMessage: message(runId, deployment) }),
      });
      const body = await response.json();
      if (response.status !== 200 || typeof body.didWarmStart !== "boolean") {
        errors.push(`${runId}: ${response.status} ${JSON.stringify(body)}`);
        release(runId);
        continue;
      }

      answers.set(runId, body.didWarmStart);
      durations.push(performance.now() - begun);
      if (settings.pauseMs > 0) {
        await sleep(Math.random() * 2 * settings.pauseMs);
      }
      if (!body.didWarmStart) {
        release(runId);
      }
    } catch (error) {
      errors.push(`${runId}: ${error}`);
      release(runId);
    }
  }
}

function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

for (let i = 0; i < settings.controllers; i++) {
  spawn();
}

// How late this process's timers and I/O callbacks run: a poll's abort timer firing late is what the guard covers.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

// Let the controllers connect and settle into polling (their first polls are the slowest) before the first dispatch.
await sleep(settings.warmupMs);
const dispatchers = [];
for (let i = 0; i < settings.dispatchers; i++) {
  dispatchers.push(dispatcher(i));
}

await sleep(settings.durationMs);
running = false;
await Promise.all(dispatchers);
// Every dispatch is answered; a run answered true may still be on its way into its controller.
await sleep(settings.settleMs);
for (const { warm } of [...controllers]) {
  try {
    warm.abort();
  } catch {
    // not polling right now
  }
}

await Promise.race([Promise.allSettled(controllerTasks), sleep(2000)]);

const answeredTrue = [...answers].filter(([, warm]) => warm).map(([run]) => run);
const answeredFalse = [...answers].filter(([, warm]) => !warm).map(([run]) => run);
const lost = answeredTrue.filter((run) => !received.has(run));
const duplicated = [...received].filter(([, times]) => times > 1).map(([run]) => run);
const falseYetReceived = answeredFalse.filter((run) => received.has(run));
const diedAnsweredTrue = [...died].filter((run) => answers.get(run) === true);
const startedAnsweredFalse = [...started].filter((run) => answers.get(run) === false);
const trueNotStarted = settings.startAttempts ? answeredTrue.filter((run) => !started.has(run) && !died.has(run)) : [];

const summary = {
  settings: { ...settings, connectionTimeoutMs },
  dispatched: answers.size,
  answeredTrue: answeredTrue.length,
  answeredFalse: answeredFalse.length,
  errors: errors.length,
  errorSamples: errors.slice(0, 5),
  received: received.size,
  lost: lost.length,
  lostSamples: lost.slice(0, 5),
  duplicated: duplicated.length,
  falseYetReceived: falseYetReceived.length,
  falseYetReceivedSamples: falseYetReceived.slice(0, 5),
  started: started.size,
  died: died.size,
  diedAnsweredTrue: diedAnsweredTrue.length,
  startedAnsweredFalse: startedAnsweredFalse.length,
  trueNotStarted: trueNotStarted.length,
  controllersStarted: nextController,
  warmRatio: answers.size === 0 ? 0 : answeredTrue.length / answers.size,
  dispatchMs: { p50: percentile(durations, 50), p90: percentile(durations, 90), p99: percentile(durations, 99) },
  eventLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
};
writeFileSync(settings.out, JSON.stringify(summary, null, 2));
process.stdout.write(JSON.stringify(summary) + "\n");
process.exit(0);
