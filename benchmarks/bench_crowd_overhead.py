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

With ``--models`` (a comma-separated list of crowd models, or ``all`` for
``CROWD_MODEL_NAMES``) every listed model is trained and timed the same way,
each with its own defaults (``mixup_alpha="auto"``: mixup for speelfc, em
and annot-mix), all interleaved with the plain net in each repetition; the
report gives each model's ratio to the plain net. The default is
``crowdlayer-mw`` alone, whose report keeps its original form.

``--split`` adds, per model, where the epoch goes. Over the very batches
of one epoch (drawn once from the net's own loader), a bare loop of
``zero_grad, forward, loss, backward, step`` is timed twice on the
crowd net: once with the crowd model's loss (``module.loss``) and once
with the backbone and class head alone under a cross-entropy on the
majority vote. So

- *network*: the bare backbone + head loop (forward, backward, Adam step);
- *crowd math*: the full bare loop minus the network one (the crowd
  model's forward and backward, its parameters' step, mixup, and for
  annot-mix the backbone run once per labelled pair), plus the end-of-epoch
  hook (em's E- and M-steps, with their evaluation pass over the data),
  timed on its own;
- *plumbing*: the epoch's wall time minus both (skorch's loop, loader,
  target conversion and splitting, callbacks, history).

The same split of the plain net (its bare loop against its epoch) gives
skorch's own plumbing for comparison.

Usage::

    python benchmarks/bench_crowd_overhead.py               # full run
    python benchmarks/bench_crowd_overhead.py --quick       # smoke run
    python benchmarks/bench_crowd_overhead.py --profile     # cProfile a crowd epoch
    python benchmarks/bench_crowd_overhead.py --output \
        benchmarks/results/bench_crowd_overhead.txt
    python benchmarks/bench_crowd_overhead.py --models all --split --output \
        benchmarks/results/bench_crowd_overhead_models.txt
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


def _bare_loop(module, optimizer, batches, loss):
    """``zero_grad, forward, loss, backward, step`` over ``batches``, with
    ``loss(Xb, yb)`` the forward and loss of one batch."""

    def loop():
        module.train()
        for Xb, yb in batches:
            optimizer.zero_grad()
            loss(Xb, yb).backward()
            optimizer.step()

    return loop


def _bare_loops(net, batches, y_mv):
    """The bare training loops of ``--split`` on a crowd net: ``(full, network)``.

    ``full`` with the module's crowd loss, ``network`` with the backbone and
    head alone under a cross-entropy on the majority vote ``y_mv`` (read
    through the target's item-index column).
    """
    from torch.nn import functional as F

    module, optimizer = net.module_, net.optimizer_
    full = _bare_loop(
        module, optimizer, batches, lambda Xb, yb: module.loss(module(Xb), yb)
    )
    network = _bare_loop(
        module, optimizer, batches,
        lambda Xb, yb: F.cross_entropy(
            module.head(module.backbone(Xb)), y_mv[yb[:, -1]]
        ),
    )
    return full, network


def _plain_bare_loop(net, batches):
    module, criterion = net.module_, net.criterion_
    return _bare_loop(
        module, net.optimizer_, batches, lambda Xb, yb: criterion(module(Xb), yb)
    )


def _epoch_batches(net, X, y):
    """The (X, y) tensors of one training epoch, from the net's own loader."""
    dataset = net.get_dataset(X, y)
    return [tuple(batch) for batch in net.get_iterator(dataset, training=True)]


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2k items, 3 reps")
    parser.add_argument("--n-samples", type=int, default=None, help="items (20000)")
    parser.add_argument("--reps", type=int, default=None, help="timed epochs each (9)")
    parser.add_argument("--hidden", default="256,128", help="MLP hidden units")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--models", default="crowdlayer-mw",
                        help="comma-separated crowd models, or 'all' "
                        "(default: crowdlayer-mw)")
    parser.add_argument("--split", action="store_true",
                        help="split each epoch into network, crowd math and plumbing")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one crowd epoch (of each model)")
    parser.add_argument("--output", default=None, help="also write the report here")
    args = parser.parse_args(argv)

    import torch
    from skorch import NeuralNetClassifier
    from torch import nn

    from skcrowd.aggregation import MajorityVote
    from skcrowd.classification import CROWD_MODEL_NAMES, CrowdClassifier
    from skcrowd.datasets import make_crowd_classification
    from skcrowd.nn import MLP

    models = (
        list(CROWD_MODEL_NAMES) if args.models == "all" else args.models.split(",")
    )
    unknown = [m for m in models if m not in CROWD_MODEL_NAMES]
    if unknown:
        parser.error(f"unknown crowd models {unknown}; choose from {CROWD_MODEL_NAMES}")
    # the original single-model report, unless asked for more
    per_model = models != ["crowdlayer-mw"] or args.split

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
    crowd = {}  # model -> (net, X, target, set-up seconds)
    for model in models:
        t0 = time.perf_counter()
        crowd_clf = RecordingCrowdClassifier(
            crowd_model=model, hidden_units=hidden, optimizer="adam",
            random_state=0, **common,
        ).fit(X, Y)
        crowd_fit_s = time.perf_counter() - t0
        crowd_net = crowd_clf.net_
        X_net, target = crowd_clf.bench_data_
        setup_s = crowd_fit_s - crowd_net.history[-1, "dur"]
        crowd[model] = (crowd_net, X_net, target, setup_s)

    torch.manual_seed(0)
    backbone = MLP(n_features, hidden, 0.0)
    plain_net = NeuralNetClassifier(
        nn.Sequential(backbone, nn.Linear(backbone.out_features, n_classes)),
        criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
        iterator_train__shuffle=True, train_split=None, verbose=0, **common,
    )
    plain_net.fit(X, y_mv)  # the warm-up epoch

    names = ["plain", *models] if per_model else ["crowd", "plain"]
    times = {name: [] for name in names}
    parts = {}  # (name, part) -> times of --split's bare loops
    loops = {}
    if args.split:
        y_mv_t = torch.as_tensor(y_mv)
        loops["plain"] = {"bare": _plain_bare_loop(
            plain_net, _epoch_batches(plain_net, X, y_mv))}
        for model, (net, X_net, target, _) in crowd.items():
            full, network = _bare_loops(net, _epoch_batches(net, X_net, target), y_mv_t)
            loops[model] = {"bare": full, "network": network}
            hook = dict(net.callbacks_).get("crowd_model_epoch_end")
            if hook is not None:
                dataset = net.get_dataset(X_net, target)
                loops[model]["hook"] = (
                    lambda hook=hook, net=net, dataset=dataset:
                    hook.on_epoch_end(net, dataset_train=dataset)
                )
            for fn in loops[model].values():
                fn()  # warm-up
        loops["plain"]["bare"]()

    def run_epoch(name):
        if name == "plain":
            return plain_net.fit_loop(X, y_mv, epochs=1)
        net, X_net, target, _ = crowd["crowdlayer-mw" if name == "crowd" else name]
        return net.fit_loop(X_net, target, epochs=1)

    for _ in range(reps):
        order = ["crowd", "plain"] if not per_model else names
        for name in order:
            times[name].append(_timed(lambda name=name: run_epoch(name)))
            for part, fn in loops.get(name, {}).items():
                parts.setdefault((name, part), []).append(_timed(fn))
    med = {k: float(np.median(v)) for k, v in times.items()}
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
    if not per_model:
        ratio = med["crowd"] / med["plain"]
        out("crowd: CrowdClassifier(crowd_model='crowdlayer-mw') on the crowd matrix; "
            "plain: skorch NeuralNetClassifier + CrossEntropyLoss on majority-vote "
            "labels")
        out(f"{reps} interleaved epochs each after one warm-up epoch; wall time of "
            "net.fit_loop(X, y, epochs=1); medians")
        out()
        out(f"{'net':8s} {'median s/epoch':>15s} {'min':>8s} {'max':>8s}   all")
        for name in ("plain", "crowd"):
            v = times[name]
            out(f"{name:8s} {med[name]:15.3f} {min(v):8.3f} {max(v):8.3f}   "
                + " ".join(f"{t:.3f}" for t in v))
        out(f"crowd fit's one-time set-up (validation, target, Dawid-Skene start, "
            f"building the net): {crowd['crowdlayer-mw'][3]:.2f} s")
        out()
        out("== target ==")
        out(f"crowd / plain median epoch time {ratio:.2f} <= {TARGET_RATIO}: "
            f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
    else:
        out("crowd: CrowdClassifier(crowd_model=m) on the crowd matrix, each model "
            "with its defaults (mixup_alpha='auto': on for speelfc, em, annot-mix); "
            "plain: skorch NeuralNetClassifier + CrossEntropyLoss on majority-vote "
            "labels")
        out(f"{reps} interleaved epochs each (plain, then every model, per "
            "repetition) after one warm-up epoch; wall time of "
            "net.fit_loop(X, y, epochs=1); medians")
        out()
        head = f"{'net':16s} {'s/epoch':>8s} {'min':>7s} {'max':>7s} {'ratio':>6s}"
        if args.split:
            head += (f" | {'network':>8s} {'crowd math':>10s} {'plumbing':>9s}"
                     f" {'(hook)':>7s}  s/epoch (share)")
        out(head + f" {'set-up s':>9s}")
        for name in names:
            v = times[name]
            line = (f"{name:16s} {med[name]:8.3f} {min(v):7.3f} {max(v):7.3f} "
                    f"{med[name] / med['plain']:6.2f}")
            if args.split:
                pm = {part: float(np.median(t)) for (n, part), t in parts.items()
                      if n == name}
                if name == "plain":
                    network, math = pm["bare"], 0.0
                else:
                    network = pm["network"]
                    math = pm["bare"] - pm["network"] + pm.get("hook", 0.0)
                plumbing = med[name] - network - math
                share = [
                    f"{100 * x / med[name]:.0f}%" for x in (network, math, plumbing)
                ]
                hook = f"{pm['hook']:7.3f}" if "hook" in pm else f"{'-':>7s}"
                line += (f" | {network:8.3f} {math:10.3f} {plumbing:9.3f} {hook}  "
                         f"({' / '.join(share)})")
            setup = "" if name == "plain" else f"{crowd[name][3]:9.2f}"
            out(line + f" {setup:>9s}")
        if args.split:
            out()
            out("split (medians of bare loops over one epoch's batches, interleaved "
                "with the epochs): network = backbone + head forward/backward + "
                "Adam step under a cross-entropy; crowd math = the bare loop with "
                "the crowd loss minus the network one, plus the end-of-epoch hook "
                "(em); plumbing = the epoch minus both (skorch loop, loader, "
                "target handling, callbacks, history). For plain, network is its "
                "bare loop")
        out()
        out("== target ==")
        for name in models:
            ratio = med[name] / med["plain"]
            verdict = "" if name != "crowdlayer-mw" else (
                f" <= {TARGET_RATIO}: {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
            out(f"{name} / plain median epoch time {ratio:.2f}{verdict}")
    if args.quick:
        out("(--quick: smoke run)")

    if args.profile:
        import cProfile
        import pstats

        for model in models:
            net, X_net, target, _ = crowd[model]
            print(f"\n== cProfile of one {model} epoch ==")
            prof = cProfile.Profile()
            prof.enable()
            net.fit_loop(X_net, target, epochs=1)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    if args.output:
        out.save(args.output)


if __name__ == "__main__":
    main()
