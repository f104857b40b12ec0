#!/usr/bin/python3
"""The PyTorch side of tests/tools/onnx_cli_test.cc: a seeded nn.LSTM / nn.GRU / nn.RNN stack with
an nn.Linear head, exported to ONNX, and the same model (rebuilt from the same seed) run on windows
the test hands over.

  onnx_torch.py export  --cell lstm --features 4 --steps 8 --seed 3 --out model.onnx
  onnx_torch.py predict --cell lstm --features 4 --steps 8 --seed 3 --x x.bin --y y.bin

x.bin: float32 [n][steps][features], little-endian; y.bin: float32 [n] (the head's one output).
Exit 3 with a message on stderr when torch is not importable (the test skips then).
"""
import argparse
import sys

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # the test reports this as a skip, naming the package
    print(f"torch is not importable: {e} (Debian package python3-torch)", file=sys.stderr)
    sys.exit(3)


class Regressor(nn.Module):
    def __init__(self, cell, features, hidden, layers):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(features, hidden, num_layers=layers, batch_first=True)
        self.fc1 = nn.Linear(hidden, 6)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(6, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc2(self.act(self.fc1(y[:, -1, :])))


def build(args):
    torch.manual_seed(args.seed)
    model = Regressor(args.cell, args.features, args.hidden, args.layers).eval()
    with torch.no_grad():  # biases large enough that a wrong gate order or bias split shows
        for name, p in model.named_parameters():
            if "bias" in name:
                p.uniform_(-0.5, 0.5)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["export", "predict"])
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--features", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--hidden", type=int, default=12)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument("--x")
    ap.add_argument("--y")
    args = ap.parse_args()
    model = build(args)
    if args.command == "export":
        x = torch.zeros(2, args.steps, args.features)
        torch.onnx.export(model, x, args.out, input_names=["x"], output_names=["y"],
                          opset_version=13, dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        return
    import numpy as np
    x = np.fromfile(args.x, dtype="<f4").reshape(-1, args.steps, args.features)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).reshape(-1).numpy().astype("<f4")
    y.tofile(args.y)


if __name__ == "__main__":
    main()
