#!/usr/bin/python3
"""PyTorch peer of bench/kernels/ (issue 4): lstm_infer, lstm_train and gan_step with backend
name `pytorch`, on Debian's python3-torch run with OpenBLAS, one thread, FTZ/DAZ on.

Run with /usr/bin/python3 (Debian's, which has torch and numpy). The script puts OpenBLAS in
place itself: when build/peers/openblas (tools/peers-setup.sh) exists and LD_LIBRARY_PATH does
not point at it yet, it re-executes itself with LD_LIBRARY_PATH set, OPENBLAS_NUM_THREADS=1 and
OMP_NUM_THREADS=1. After importing torch it checks /proc/self/maps: the process must have
libopenblas mapped and no reference libblas; otherwise it refuses (exit 2), unless
--allow-reference-blas, which names the backend `pytorch-refblas` so the figures cannot be
mistaken for the OpenBLAS peer.

What one iteration is (the C++ cases' work, in PyTorch's idiom):
  lstm_infer  nn.LSTM(8, H, L) forward over x [64][B][8] under torch.inference_mode().
  lstm_train  zero_grad; forward; backward of h_n of the top layer with a fixed random gradient
              (many-to-one); Adam (lr 1e-3) over every parameter.
  gan_step    kcore's GanNet shape (kernels/gan_blocks.cc): generator = LSTM(noise 8 → H), the
              noise repeated at each of 32 steps, per-step Linear(H → 8); discriminator =
              LSTM(8 → H), Linear(H → 1) on the last step's h. Discriminator step: G forward
              (no grad) on B, D forward/backward on the B real + B generated windows, BCE with
              logits, Adam; generator step: G and D forward/backward on B (non-saturating
              loss), Adam on G.
nn.LSTM carries two bias vectors (b_ih, b_hh) where our kernels have one: 4H extra adds per
step, nothing next to the products.

Usage: /usr/bin/python3 bench/peers/torch_lstm.py [--filter REGEX] [--quick] [--repetitions N]
         [--min-time S] [--out FILE.json] [--peak-gflops G] [--peak512-gflops G]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import peers_common as pc  # noqa: E402

OPENBLAS_SUBDIR = "usr/lib/x86_64-linux-gnu/openblas-pthread"


def fail(message):
    """Environment problems (no torch, no OpenBLAS): exit 2, as for a usage error."""
    print(f"torch_lstm: {message}", file=sys.stderr)
    sys.exit(2)


def ensure_environment(build_dir, allow_reference):
    """Re-executes once with OpenBLAS on LD_LIBRARY_PATH and one BLAS/OpenMP thread (the
    dynamic loader and OpenBLAS read these at start-up, so they must be set before torch is
    loaded)."""
    lib = os.path.join(build_dir, "peers", "openblas", OPENBLAS_SUBDIR)
    env = dict(os.environ)
    want = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    paths = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    need = any(env.get(k) != v for k, v in want.items())
    if os.path.isdir(lib) and os.path.realpath(lib) not in map(os.path.realpath, paths):
        env["LD_LIBRARY_PATH"] = ":".join([lib] + paths)
        need = True
    elif not os.path.isdir(lib) and not allow_reference:
        fail(f"{lib} is missing; run tools/peers-setup.sh first")
    if need and env.get("NEMESYST_PEERS_REEXEC") != "1":
        env.update(want)
        env["NEMESYST_PEERS_REEXEC"] = "1"
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    """The BLAS shared objects mapped into this process: after torch has run a matmul, the
    OpenBLAS build shows libopenblas*.so, the reference one only libblas.so.3 from /lib."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            base = os.path.basename(path)
            if "blas" in base:
                libs.add(path)
    return sorted(libs)


def openblas_core(libs):
    """OpenBLAS's own report of the kernel set it picked for this CPU (e.g. SkylakeX: AVX-512)."""
    import ctypes
    for path in libs:
        if "openblas" in os.path.basename(path):
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode()
            except (OSError, AttributeError):
                return "unknown"
    return None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--filter", default="", help="regex searched in the case names")
    p.add_argument("--quick", action="store_true", help="the target shapes only")
    p.add_argument("--repetitions", type=int, default=1)
    p.add_argument("--min-time", type=float, default=0.1, help="seconds of calls per repetition")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--out", default="-", help="JSON output file (default stdout)")
    p.add_argument("--peak-gflops", type=float, default=None,
                   help="peak_fma of the C++ run, to report peak_frac")
    p.add_argument("--peak512-gflops", type=float, default=None,
                   help="peak_fma_avx512 of the C++ run, to report peak512_frac")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    p.add_argument("--allow-reference-blas", action="store_true")
    return p.parse_args()


def timed(fn, warmup, min_time, repetitions):
    """[(calls, cpu s/call, wall s/call)] per repetition; CPU = this thread's (torch and
    OpenBLAS run inline on the calling thread with one thread)."""
    for _ in range(warmup):
        fn()
    t0 = time.thread_time()
    fn()
    calls = pc.calls_for(min_time, time.thread_time() - t0)
    runs = []
    for _ in range(repetitions):
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((calls, (time.thread_time() - c0) / calls, (time.perf_counter() - w0) / calls))
    return runs


def main():
    args = parse_args()
    ensure_environment(args.build_dir, args.allow_reference_blas)
    try:
        import torch
    except ImportError as e:
        fail(f"{e}; run with /usr/bin/python3 after tools/peers-setup.sh")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    if not torch.set_flush_denormal(True):
        fail("this CPU does not support flush-denormal (FTZ/DAZ)")
    torch.manual_seed(0)
    (torch.randn(64, 64) @ torch.randn(64, 64)).sum().item()  # loads the BLAS
    libs = blas_in_use()
    openblas = any("openblas" in os.path.basename(p) for p in libs)
    backend = "pytorch"
    if not openblas:
        if not args.allow_reference_blas:
            fail(f"torch is not using OpenBLAS (mapped: {libs}); "
                 "run tools/peers-setup.sh, or pass --allow-reference-blas")
        backend = "pytorch-refblas"
    core = openblas_core(libs)
    print(f"torch_lstm: torch {torch.__version__}, BLAS {libs} (OpenBLAS core {core}), threads "
          f"{torch.get_num_threads()}", file=sys.stderr)

    cases = pc.lstm_cases(("lstm_infer", "lstm_train"), backend)
    cases += [(pc.gan_name(backend, b, h), "gan_step", b, h, 1)
              for b in pc.GAN_BATCHES for h in pc.GAN_HIDDENS]
    cases = pc.select(cases, args.filter, args.quick)
    report = pc.Report("torch_lstm.py", {
        "peer": "pytorch", "torch_version": torch.__version__, "blas": libs, "openblas_core": core,
        "torch_threads": torch.get_num_threads(), "flush_denormal": True,
    }, args.peak_gflops, args.peak512_gflops)
    for name, kind, batch, hidden, layers in cases:
        if kind == "lstm_infer":
            fn, flops = infer_case(torch, batch, hidden, layers)
        elif kind == "lstm_train":
            fn, flops = train_case(torch, batch, hidden, layers)
        else:
            fn, flops = gan_case(torch, batch, hidden)
        runs = timed(fn, args.warmup, args.min_time, args.repetitions)
        report.add(name, runs, flops)
        med = sorted(r[1] for r in runs)[len(runs) // 2]
        print(f"{name}: {med * 1e6:.1f} us cpu, {flops / med * 1e-9:.1f} GFLOP/s", file=sys.stderr)
    # One thread means one: no OpenBLAS or OpenMP workers were started (thread_time is then
    # the whole computation's CPU time).
    report.context["process_threads"] = len(os.listdir("/proc/self/task"))
    report.write(args.out)


def infer_case(torch, batch, hidden, layers):
    lstm = torch.nn.LSTM(pc.INPUT, hidden, layers).eval()
    x = torch.rand(pc.SEQ, batch, pc.INPUT) * 2 - 1

    def run():
        with torch.inference_mode():
            y, _ = lstm(x)
        return y

    return run, pc.forward_flops(batch, hidden, layers)


def train_case(torch, batch, hidden, layers):
    lstm = torch.nn.LSTM(pc.INPUT, hidden, layers)
    adam = torch.optim.Adam(lstm.parameters(), lr=1e-3)
    x = torch.rand(pc.SEQ, batch, pc.INPUT) * 2 - 1
    dh_top = torch.rand(batch, hidden) * 2 - 1

    def step():
        adam.zero_grad(set_to_none=False)
        _, (h_n, _) = lstm(x)
        h_n[-1].backward(dh_top)
        adam.step()

    return step, 3 * pc.forward_flops(batch, hidden, layers)


def gan_case(torch, batch, hidden):
    nn = torch.nn
    T, F, N = pc.GAN_SEQ, pc.GAN_FEATURES, pc.GAN_NOISE

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(N, hidden)
            self.head = nn.Linear(hidden, F)

        def forward(self, z):  # z [B][N] → windows [T][B][F] (time-major throughout)
            y, _ = self.rnn(z.unsqueeze(0).expand(T, -1, -1).contiguous())
            return self.head(y)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(F, hidden)
            self.head = nn.Linear(hidden, 1)

        def forward(self, windows):  # [T][B][F] → logits [B]
            _, (h_n, _) = self.rnn(windows)
            return self.head(h_n[-1]).squeeze(1)

    g, d = Generator(), Discriminator()
    g_opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    d_opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    bce = nn.BCEWithLogitsLoss()
    real = torch.randn(T, batch, F)
    labels = torch.cat([torch.ones(batch), torch.zeros(batch)])
    ones = torch.ones(batch)

    def step():
        d_opt.zero_grad(set_to_none=False)
        with torch.no_grad():
            fake = g(torch.randn(batch, N))
        d_loss = bce(d(torch.cat([real, fake], dim=1)), labels)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad(set_to_none=False)
        d_opt.zero_grad(set_to_none=False)
        g_loss = bce(d(g(torch.randn(batch, N))), ones)
        g_loss.backward()
        g_opt.step()

    return step, pc.gan_flops(batch, hidden)


if __name__ == "__main__":
    main()
