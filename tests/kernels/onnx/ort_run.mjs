// Runs an ONNX model exported by Nemesyst (input "x" [batch, steps, features] float32, output
// "y") on onnxruntime-node, CPU execution provider, one thread: the end-to-end check of
// tests/kernels/onnx/onnx_export_test.cc.
//
// Usage: node ort_run.mjs ORT_NODE_DIR MODEL.onnx INPUT.bin BATCH STEPS FEATURES OUTPUT.bin
//   ORT_NODE_DIR  the directory tools/peers-setup.sh installs onnxruntime-node into
//                 (<build>/peers/node)
//   INPUT.bin     batch × steps × features float32, little-endian, row-major
//   OUTPUT.bin    written: y's values, float32 little-endian, row-major
// Prints y's dims as one JSON line ({"dims":[...]}) on stdout. Exit codes: 0 ok, 2 bad usage or
// onnxruntime-node missing, 1 any other failure (message on stderr).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

function fail(code, message) {
  console.error(`ort_run: ${message}`);
  process.exit(code);
}

function positive(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1 << 20) fail(2, `${name} must be an integer in [1, 2^20], got '${text}'`);
  return n;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 7) {
    fail(2, 'usage: node ort_run.mjs ORT_NODE_DIR MODEL.onnx INPUT.bin BATCH STEPS FEATURES OUTPUT.bin');
  }
  const [ortDir, modelPath, inputPath, batchText, stepsText, featuresText, outputPath] = args;
  const batch = positive('BATCH', batchText);
  const steps = positive('STEPS', stepsText);
  const features = positive('FEATURES', featuresText);

  let ort;
  try {
    ort = createRequire(path.join(path.resolve(ortDir), 'package.json'))('onnxruntime-node');
  } catch (e) {
    fail(2, `cannot load onnxruntime-node from ${ortDir} (${e.message}); run tools/peers-setup.sh`);
  }

  const raw = fs.readFileSync(inputPath);
  const count = batch * steps * features;
  if (raw.length !== count * 4) {
    fail(2, `${inputPath} holds ${raw.length} bytes, expected ${count * 4} (${batch}×${steps}×${features} float32)`);
  }
  const x = new Float32Array(count);
  for (let i = 0; i < count; ++i) x[i] = raw.readFloatLE(i * 4);

  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  if (session.inputNames.length !== 1 || session.inputNames[0] !== 'x' ||
      session.outputNames.length !== 1 || session.outputNames[0] !== 'y') {
    fail(1, `expected one input 'x' and one output 'y', got inputs [${session.inputNames}] ` +
      `outputs [${session.outputNames}]`);
  }
  const result = await session.run({ x: new ort.Tensor('float32', x, [batch, steps, features]) });
  const y = result.y;
  if (y.type !== 'float32') fail(1, `output y is ${y.type}, expected float32`);
  const out = Buffer.alloc(y.data.length * 4);
  for (let i = 0; i < y.data.length; ++i) out.writeFloatLE(y.data[i], i * 4);
  fs.writeFileSync(outputPath, out);
  process.stdout.write(JSON.stringify({ dims: y.dims }) + '\n');
}

main().catch((e) => fail(1, e && e.stack ? e.stack : String(e)));
