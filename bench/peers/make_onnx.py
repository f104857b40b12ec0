#!/usr/bin/python3
"""Writes the ONNX models the ONNX Runtime peer (bench/peers/ort_lstm.mjs) runs, into
build/peers/models/ (or --out):

  lstm_h{H}_l{L}.onnx  X [64][batch][8] → Y [64][1][batch][H]: L chained ONNX `LSTM` nodes
                       (forward, default activations, one bias pair per layer; a Squeeze of the
                       direction axis between layers), weights as initializers; batch symbolic.
                       ORT's CPU provider runs ONNX LSTM with its DeepCPU kernel.
  empty.onnx           X [64][batch][8] → S = Shape(X): the empty graph whose per-call cost
                       (N-API crossing, tensor wrapping, promise, session dispatch) the peer
                       subtracts. Not Identity: that copies X into its output (512 KB at batch
                       256), work the LSTM graph does not do, and would be subtracted too.
  check_h{H}_l{L}.x.f32 / .y.f32
                       a cross-check input (batch 3) and the output PyTorch's nn.LSTM computes
                       with the same weights, little-endian float32, for ort_lstm.mjs to compare.
  models.json          the manifest: file names, shapes and the check's batch.

The weights are nn.LSTM's default initialisation under a fixed seed, converted from PyTorch's
gate order (i, f, g, o) to ONNX's (i, o, f, c). Run with /usr/bin/python3 (Debian's
python3-onnx and python3-torch). Deterministic; rewrites only what changed.
Usage: /usr/bin/python3 bench/peers/make_onnx.py [--out DIR]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import peers_common as pc  # noqa: E402

OPSET = 17  # the newest python3-onnx 1.12 writes; ONNX Runtime 1.22 runs it
CHECK_BATCH = 3


def onnx_gates(torch, w, hidden):
    """PyTorch stacks gates i, f, g, o; ONNX LSTM expects i, o, f, c (c = PyTorch's g)."""
    i, f, g, o = (w[k * hidden:(k + 1) * hidden] for k in range(4))
    return torch.cat([i, o, f, g], dim=0)


def lstm_model(onnx, torch, lstm, hidden, layers):
    import numpy
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    x_name = "X"
    for layer in range(layers):
        w = onnx_gates(torch, getattr(lstm, f"weight_ih_l{layer}").detach(), hidden)
        r = onnx_gates(torch, getattr(lstm, f"weight_hh_l{layer}").detach(), hidden)
        b = torch.cat([onnx_gates(torch, getattr(lstm, f"bias_ih_l{layer}").detach(), hidden),
                       onnx_gates(torch, getattr(lstm, f"bias_hh_l{layer}").detach(), hidden)])
        names = [f"W{layer}", f"R{layer}", f"B{layer}"]
        for n, t in zip(names, (w.unsqueeze(0), r.unsqueeze(0), b.unsqueeze(0))):
            inits.append(numpy_helper.from_array(t.numpy().copy(), n))
        y = "Y" if layer == layers - 1 else f"Y{layer}"
        nodes.append(helper.make_node("LSTM", [x_name] + names, [y], hidden_size=hidden,
                                      direction="forward", name=f"lstm{layer}"))
        if layer != layers - 1:
            inits.append(numpy_helper.from_array(numpy.array([1], dtype=numpy.int64),
                                                 f"axes{layer}"))
            x_name = f"H{layer}"
            nodes.append(helper.make_node("Squeeze", [y, f"axes{layer}"], [x_name]))
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [pc.SEQ, "batch", pc.INPUT])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [pc.SEQ, 1, "batch", hidden])
    graph = helper.make_graph(nodes, f"lstm_h{hidden}_l{layers}", [x], [y], inits)
    return finish(onnx, helper, graph)


def empty_model(onnx):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [pc.SEQ, "batch", pc.INPUT])
    s = helper.make_tensor_value_info("S", TensorProto.INT64, [3])
    graph = helper.make_graph([helper.make_node("Shape", ["X"], ["S"])], "empty", [x], [s])
    return finish(onnx, helper, graph)


def finish(onnx, helper, graph):
    model = helper.make_model(graph, producer_name="nemesyst bench/peers/make_onnx.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_if_changed(path, data):
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "build", "peers", "models"))
    args = p.parse_args()
    try:
        import onnx
        import torch
    except ImportError as e:
        sys.exit(f"make_onnx: {e}; run with /usr/bin/python3 after tools/peers-setup.sh")
    os.makedirs(args.out, exist_ok=True)
    manifest = {"seq": pc.SEQ, "input": pc.INPUT, "opset": OPSET, "empty": "empty.onnx",
                "models": []}
    write_if_changed(os.path.join(args.out, "empty.onnx"), empty_model(onnx))
    for layers in (1, 2):
        for hidden in pc.HIDDENS:
            torch.manual_seed(1000 * layers + hidden)
            lstm = torch.nn.LSTM(pc.INPUT, hidden, layers)
            stem = f"lstm_h{hidden}_l{layers}"
            write_if_changed(os.path.join(args.out, stem + ".onnx"),
                             lstm_model(onnx, torch, lstm, hidden, layers))
            x = torch.rand(pc.SEQ, CHECK_BATCH, pc.INPUT) * 2 - 1
            with torch.no_grad():
                y, _ = lstm(x)
            write_if_changed(os.path.join(args.out, f"check_{stem}.x.f32"),
                             x.numpy().astype("<f4").tobytes())
            write_if_changed(os.path.join(args.out, f"check_{stem}.y.f32"),
                             y.numpy().astype("<f4").tobytes())
            manifest["models"].append({
                "hidden": hidden, "layers": layers, "file": stem + ".onnx",
                "check": {"batch": CHECK_BATCH, "x": f"check_{stem}.x.f32",
                          "y": f"check_{stem}.y.f32"}})
    write_if_changed(os.path.join(args.out, "models.json"),
                     (json.dumps(manifest, indent=2) + "\n").encode())


if __name__ == "__main__":
    main()
