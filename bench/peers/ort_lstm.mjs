// ONNX Runtime peer of bench/kernels/ (issue 4): lstm_infer with backend name `onnxruntime`, on
// onnxruntime-node (CPU execution provider; its ONNX LSTM is the DeepCPU kernel), one thread.
//
// Models: build/peers/models/ from bench/peers/make_onnx.py (L chained ONNX LSTM nodes, weights
// converted from PyTorch's nn.LSTM). Before timing, each model is cross-checked against the
// output PyTorch computed for the same weights and input (max abs difference <= 1e-4, else the
// script fails).
//
// Session: intraOpNumThreads 1, interOpNumThreads 1, sequential execution, all graph
// optimisations, session.set_denormal_as_zero = 1 (FTZ/DAZ on the thread that runs the graph —
// the binding runs it on the JS thread). The output is pre-allocated and bound (`fetches`), as
// the C++ cases write into a caller's buffer.
//
// Overhead: every call crosses N-API, wraps the tensors, dispatches the session and resolves a
// promise. An empty graph (make_onnx.py's empty.onnx: Shape(X), no data work) run on the same
// input tensor is timed in every repetition, right after the LSTM's calls and with its own call
// count (enough calls to fill --min-time too), and its time per call is subtracted; the raw
// figure and the overhead are reported as counters (raw_cpu_us, overhead_cpu_us). What stays
// in the figure: the binding copies the output Y (T·B·H floats) into a new JS tensor even when
// it is bound — under 1 % of a call at every shape here. CPU time is the process's
// (process.cpuUsage: the graph runs on the JS thread; Node's helper threads are idle), wall
// time beside it as real_time.
//
// Usage: node bench/peers/ort_lstm.mjs [--filter REGEX] [--quick] [--repetitions N]
//          [--min-time S] [--out FILE.json] [--peak-gflops G] [--peak512-gflops G]
//          [--build-dir DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

const kBatches = [1, 8, 64, 256];
const kHiddens = [32, 64, 128, 256];
const kSeq = 64;
const kInput = 8;
const kCheckTolerance = 1e-4;

function parseArgs(argv) {
  const a = { filter: '', quick: false, repetitions: 1, minTime: 0.1, warmup: 3, out: '-',
    peak: null, peak512: null, buildDir: path.join(repo, 'build') };
  for (let i = 0; i < argv.length; ++i) {
    const [key, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (key) {
      case '--filter': a.filter = value(); break;
      case '--quick': a.quick = true; break;
      case '--repetitions': a.repetitions = Number(value()); break;
      case '--min-time': a.minTime = Number(value()); break;
      case '--warmup': a.warmup = Number(value()); break;
      case '--out': a.out = value(); break;
      case '--peak-gflops': a.peak = Number(value()); break;
      case '--peak512-gflops': a.peak512 = Number(value()); break;
      case '--build-dir': a.buildDir = path.resolve(value()); break;
      default:
        console.error(`ort_lstm: unknown argument ${argv[i]}`);
        process.exit(2);
    }
  }
  if (!(a.repetitions >= 1) || !(a.minTime > 0)) {
    console.error('ort_lstm: --repetitions must be >= 1 and --min-time > 0');
    process.exit(2);
  }
  return a;
}

function caseName(batch, hidden, layers) {
  return `lstm_infer/onnxruntime/batch:${batch}/hidden:${hidden}/seq:${kSeq}/input:${kInput}` +
    `/layers:${layers}`;
}

// 2 × multiply-adds of the recurrent products (bench/kernels/lstm_stack.h ForwardFlops).
function forwardFlops(batch, hidden, layers) {
  let f = 0;
  for (let l = 0; l < layers; ++l) f += 2 * kSeq * batch * 4 * hidden * ((l === 0 ? kInput : hidden) + hidden);
  return f;
}

function seconds() { return Number(process.hrtime.bigint()) * 1e-9; }
function cpuSeconds() { const u = process.cpuUsage(); return (u.user + u.system) * 1e-6; }

function random(n, seed) {  // xorshift: deterministic inputs in [-1, 1)
  const v = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = (s / 4294967296) * 2 - 1;
  }
  return v;
}

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }
function mean(xs) { return xs.reduce((a, b) => a + b, 0) / xs.length; }
function stddev(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const nodeDir = path.join(args.buildDir, 'peers', 'node');
  let ort;
  try {
    ort = createRequire(path.join(nodeDir, 'package.json'))('onnxruntime-node');
  } catch (e) {
    console.error(`ort_lstm: cannot load onnxruntime-node from ${nodeDir} (${e.message}); ` +
      'run tools/peers-setup.sh first');
    process.exit(2);
  }
  const modelDir = path.join(args.buildDir, 'peers', 'models');
  const manifestFile = path.join(modelDir, 'models.json');
  if (!fs.existsSync(manifestFile)) {
    console.error(`ort_lstm: ${manifestFile} is missing; run /usr/bin/python3 bench/peers/make_onnx.py`);
    process.exit(2);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { set_denormal_as_zero: '1' } },
  };
  const empty = await ort.InferenceSession.create(path.join(modelDir, manifest.empty), options);
  const rx = args.filter ? new RegExp(args.filter) : null;
  const benchmarks = [];
  const version = ort.env.versions?.node ?? 'unknown';
  console.error(`ort_lstm: onnxruntime-node ${version}, 1 intra-op / 1 inter-op thread`);

  for (const layers of [1, 2]) {
    for (const hidden of kHiddens) {
      const names = kBatches.map((b) => caseName(b, hidden, layers)).filter((n) =>
        (!rx || rx.test(n)) && (!args.quick || /batch:64\/hidden:(128|256)\//.test(n)));
      if (names.length === 0) continue;
      const entry = manifest.models.find((m) => m.hidden === hidden && m.layers === layers);
      if (!entry) throw new Error(`models.json has no model for hidden ${hidden} layers ${layers}`);
      const session = await ort.InferenceSession.create(path.join(modelDir, entry.file), options);
      await crossCheck(ort, session, modelDir, entry, hidden);
      for (const batch of kBatches) {
        const name = caseName(batch, hidden, layers);
        if (!names.includes(name)) continue;
        const runs = await timeCase(ort, session, empty, batch, hidden, args);
        benchmarks.push(...entries(name, runs, forwardFlops(batch, hidden, layers), args.peak, args.peak512));
        const cpu = median(runs.map((r) => r.cpu));
        console.error(`${name}: ${(cpu * 1e6).toFixed(1)} us cpu (overhead ` +
          `${(median(runs.map((r) => r.overheadCpu)) * 1e6).toFixed(1)} us subtracted), ` +
          `${(forwardFlops(batch, hidden, layers) / cpu * 1e-9).toFixed(1)} GFLOP/s`);
      }
      await session.release?.();
    }
  }
  const doc = {
    context: {
      date: new Date().toISOString(), host_name: os.hostname(), executable: 'ort_lstm.mjs',
      num_cpus: os.cpus().length, load_avg: os.loadavg(), library_build_type: 'release',
      peer: 'onnxruntime', onnxruntime_node_version: version, node_version: process.version,
      intra_op_threads: 1, inter_op_threads: 1, set_denormal_as_zero: true,
      overhead: 'empty graph (Shape) on the same input, timed in each repetition, subtracted',
    },
    benchmarks,
  };
  const text = JSON.stringify(doc, null, 2);
  if (args.out === '-') console.log(text); else fs.writeFileSync(args.out, text + '\n');
}

// Runs the model on make_onnx.py's check input and compares with PyTorch's output.
async function crossCheck(ort, session, modelDir, entry, hidden) {
  const { batch } = entry.check;
  const x = readF32(path.join(modelDir, entry.check.x));
  const want = readF32(path.join(modelDir, entry.check.y));
  const out = await session.run({ X: new ort.Tensor('float32', x, [kSeq, batch, kInput]) });
  const got = out.Y.data;
  if (got.length !== want.length) {
    throw new Error(`${entry.file}: output has ${got.length} values, PyTorch's ${want.length}`);
  }
  let worst = 0;
  for (let i = 0; i < got.length; ++i) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  if (!(worst <= kCheckTolerance)) {
    throw new Error(`${entry.file}: ONNX Runtime and PyTorch differ by ${worst} (> ${kCheckTolerance})`);
  }
  console.error(`ort_lstm: ${entry.file} matches PyTorch (max abs diff ${worst.toExponential(2)}, hidden ${hidden})`);
}

async function timeCase(ort, session, emptySession, batch, hidden, args) {
  const x = new ort.Tensor('float32', random(kSeq * batch * kInput, 7 + batch), [kSeq, batch, kInput]);
  const y = new ort.Tensor('float32', new Float32Array(kSeq * batch * hidden), [kSeq, 1, batch, hidden]);
  const lstm = () => session.run({ X: x }, { Y: y });
  const empty = () => emptySession.run({ X: x });
  for (let i = 0; i < args.warmup; ++i) { await lstm(); await empty(); }
  const callsFor = async (fn) => {
    const c0 = cpuSeconds();
    let n = 0;
    do { await fn(); ++n; } while (cpuSeconds() - c0 < 0.01 && n < 1000);
    return Math.max(1, Math.floor(args.minTime / Math.max((cpuSeconds() - c0) / n, 1e-9)) + 1);
  };
  const calls = await callsFor(lstm);
  const emptyCalls = await callsFor(empty);
  const timeCalls = async (fn, n) => {
    const w = seconds(), c = cpuSeconds();
    for (let i = 0; i < n; ++i) await fn();
    return [(cpuSeconds() - c) / n, (seconds() - w) / n];
  };
  const runs = [];
  for (let r = 0; r < args.repetitions; ++r) {
    const [rawCpu, rawWall] = await timeCalls(lstm, calls);
    const [overheadCpu, overheadWall] = await timeCalls(empty, emptyCalls);
    runs.push({ calls, rawCpu, rawWall, overheadCpu, overheadWall,
      cpu: Math.max(rawCpu - overheadCpu, 1e-12), wall: Math.max(rawWall - overheadWall, 1e-12) });
  }
  return runs;
}

// Google Benchmark's JSON layout (times in µs): one iteration entry, or mean/median/stddev
// aggregates over the repetitions.
function entries(name, runs, flops, peak, peak512) {
  const make = (runType, agg, pick) => {
    const cpu = pick(runs.map((r) => r.cpu));
    const e = {
      name: agg ? `${name}_${agg}` : name, run_name: name, run_type: runType,
      repetitions: runs.length, threads: 1, iterations: agg ? runs.length : runs[0].calls,
      real_time: pick(runs.map((r) => r.wall)) * 1e6, cpu_time: cpu * 1e6, time_unit: 'us',
      raw_cpu_us: pick(runs.map((r) => r.rawCpu)) * 1e6,
      overhead_cpu_us: pick(runs.map((r) => r.overheadCpu)) * 1e6,
    };
    if (agg) e.aggregate_name = agg; else e.repetition_index = 0;
    if (agg !== 'stddev') {
      e.GFLOPS = flops / cpu * 1e-9;
      if (peak) { e.peak_frac = e.GFLOPS / peak; e.limit_frac = e.peak_frac; }
      if (peak512) e.peak512_frac = e.GFLOPS / peak512;
    }
    return e;
  };
  if (runs.length === 1) return [make('iteration', null, (xs) => xs[0])];
  return [make('aggregate', 'mean', mean), make('aggregate', 'median', median),
    make('aggregate', 'stddev', stddev)];
}

main().catch((e) => {
  console.error(`ort_lstm: ${e.stack || e}`);
  process.exit(1);
});
