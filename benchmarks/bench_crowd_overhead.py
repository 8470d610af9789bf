"""The cost of the crowd: an epoch of CrowdClassifier against plain skorch.

One process trains, on the same data, CrowdClassifier(crowd_model=
"crowdlayer-mw") on the crowd (100 workers, K=10, 20,000 items x 5 labels
= 100,000 labels) and a plain skorch ``NeuralNetClassifier`` on one label
per item (the majority vote), with the same backbone (skcrowd's MLP, same
sizes, plus a linear class head), batch size, optimiser (Adam, lr 1e-3) and
shuffled loader. After one warm-up epoch each, the two nets train one epoch
at a time, alternating (interleaved repetitions, so that the load of the
shared machine hits both alike), and the wall time of each
``net.fit_loop(X, y, epochs=1)`` is recorded (the whole epoch: loader,
steps and every callback). The report gives the median epoch
time of each and their ratio; target: at most 1.3.

The crowd net is the estimator's own ``net_`` after ``fit`` (so its
one-time set-up, validation and the Dawid-Skene start, is not in the
epochs; it is reported separately), trained further with
``net_.fit_loop(X, target, epochs=1)`` on the exact target ``fit`` built.

Usage::

    python benchmarks/bench_crowd_overhead.py               # full run
    python benchmarks/bench_crowd_overhead.py --quick       # smoke run
    python benchmarks/bench_crowd_overhead.py --profile     # cProfile a crowd epoch
    python benchmarks/bench_crowd_overhead.py --output \
        benchmarks/results/bench_crowd_overhead.txt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _crowd_common import RESULTS_DATE, Report, machine_line  # noqa: E402

TARGET_RATIO = 1.3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2k items, 3 reps")
    parser.add_argument("--n-samples", type=int, default=None, help="items (20000)")
    parser.add_argument("--reps", type=int, default=None, help="timed epochs each (9)")
    parser.add_argument("--hidden", default="256,128", help="MLP hidden units")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one crowd epoch")
    parser.add_argument("--output", default=None, help="also write the report here")
    args = parser.parse_args(argv)

    import torch
    from skorch import NeuralNetClassifier
    from torch import nn

    from skcrowd.aggregation import MajorityVote
    from skcrowd.classification import CrowdClassifier
    from skcrowd.datasets import make_crowd_classification
    from skcrowd.nn import MLP

    torch.set_num_threads(args.threads)
    n_samples = args.n_samples or (2000 if args.quick else 20000)
    reps = args.reps or (3 if args.quick else 9)
    hidden = tuple(int(h) for h in args.hidden.split(","))
    n_features, n_classes, n_workers, per_item = 50, 10, 100, 5

    X, Y, y_true = make_crowd_classification(
        n_samples=n_samples, n_features=n_features, n_classes=n_classes,
        n_workers=n_workers, labels_per_item=per_item,
        worker_profiles={"reliable": 0.8, "uniform_spammer": 0.2}, random_state=0,
    )
    X = X.astype(np.float32)
    y_mv = MajorityVote(random_state=0).fit_predict(Y).astype(np.int64)

    class RecordingCrowdClassifier(CrowdClassifier):
        """Keeps the (X, target) that fit hands to the skorch net."""

        def _fit_net(self, X, target, **info):
            self.bench_data_ = (X, target)
            return super()._fit_net(X, target, **info)

    common = dict(max_epochs=1, batch_size=args.batch_size, lr=1e-3)
    t0 = time.perf_counter()
    crowd_clf = RecordingCrowdClassifier(
        crowd_model="crowdlayer-mw", hidden_units=hidden, optimizer="adam",
        random_state=0, **common,
    ).fit(X, Y)
    crowd_fit_s = time.perf_counter() - t0
    crowd_net = crowd_clf.net_
    X_net, target = crowd_clf.bench_data_
    setup_s = crowd_fit_s - crowd_net.history[-1, "dur"]

    torch.manual_seed(0)
    backbone = MLP(n_features, hidden, 0.0)
    plain_net = NeuralNetClassifier(
        nn.Sequential(backbone, nn.Linear(backbone.out_features, n_classes)),
        criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
        iterator_train__shuffle=True, train_split=None, verbose=0, **common,
    )
    plain_net.fit(X, y_mv)  # the warm-up epoch

    times = {"crowd": [], "plain": []}
    for _ in range(reps):
        for name, net, y in (("crowd", crowd_net, target), ("plain", plain_net, y_mv)):
            t0 = time.perf_counter()
            net.fit_loop(X_net if name == "crowd" else X, y, epochs=1)
            times[name].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    ratio = med["crowd"] / med["plain"]
    n_batches = int(np.ceil(n_samples / args.batch_size))

    out = Report()
    out(f"bench_crowd_overhead  {RESULTS_DATE.isoformat()}  "
        f"{machine_line(args.threads)}")
    out(f"data: make_crowd_classification, {n_samples} items x {n_features} features, "
        f"K={n_classes}, {n_workers} workers, {per_item} labels per item "
        f"({n_samples * per_item} labels); 80% reliable, 20% uniform spammers")
    out(f"both nets: MLP {hidden} + linear head, batch {args.batch_size} "
        f"({n_batches} batches per epoch), Adam lr 1e-3, shuffled loader, no "
        "validation split, no callbacks")
    out("crowd: CrowdClassifier(crowd_model='crowdlayer-mw') on the crowd matrix; "
        "plain: skorch NeuralNetClassifier + CrossEntropyLoss on majority-vote labels")
    out(f"{reps} interleaved epochs each after one warm-up epoch; wall time of "
        "net.fit_loop(X, y, epochs=1); medians")
    out()
    out(f"{'net':8s} {'median s/epoch':>15s} {'min':>8s} {'max':>8s}   all")
    for name in ("plain", "crowd"):
        v = times[name]
        out(f"{name:8s} {med[name]:15.3f} {min(v):8.3f} {max(v):8.3f}   "
            + " ".join(f"{t:.3f}" for t in v))
    out(f"crowd fit's one-time set-up (validation, target, Dawid-Skene start, "
        f"building the net): {setup_s:.2f} s")
    out()
    out("== target ==")
    out(f"crowd / plain median epoch time {ratio:.2f} <= {TARGET_RATIO}: "
        f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
    if args.quick:
        out("(--quick: smoke run)")

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        crowd_net.fit_loop(X_net, target, epochs=1)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    if args.output:
        out.save(args.output)


if __name__ == "__main__":
    main()
