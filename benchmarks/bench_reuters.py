"""Reuters-21578 (ModApte, 90 labels): BBSN against the plain multi-label nets.

Data: the ModApte split of Reuters-21578 restricted to the 90 categories with
at least one training and one test document (7,770 training and 3,019 test
documents; ``../shared/data/reuters21578/modapte90.jsonl.gz``, research use
only). Label groups by training documents (Huang et al., EMNLP 2021): head
>= 35, medium 9-34, tail <= 8.

Every net uses the same encoder: TF-IDF (``sublinear_tf``, fitted on the
training documents) read batch by batch through a sparse first layer
``26k -> 512`` with ReLU and dropout 0.2, and the estimators' defaults
(AdamW lr 1e-2 with 10% warm-up then linear decay, batch 32, 10% of the
training documents held out for model selection on micro+macro F1 and for
per-label thresholds). Rows:

- ``BBSNClassifier(scale_branch_lr=True, prediction="siamese")`` (10
  epochs, each over 4 x 7,770 documents), the row the targets are scored
  on: the BBN heads' weight matrices learn at ``alpha`` and ``1 - alpha``
  times the learning rate, as they would under BBN's SGD (AdamW moves an
  idle head at the full rate; see the parameter), and documents are
  scored by the mean of the two Siamese classifiers instead of the BBN
  heads at ``alpha = 0.5`` (chosen on a held-out part of the training
  set); ``BBSNClassifier(scale_branch_lr=True)``, the BBN heads'
  prediction; and ``BBSNClassifier()``, BBSN's code as is;
- ``MultiLabelNetClassifier(loss=...)`` for bce, focal, class-balanced,
  distribution-balanced and asymmetric (10 epochs);
- the reference: TF-IDF + ``LinearSVC(class_weight="balanced")`` one-vs-rest
  on all training documents (the data README: micro 0.869, macro 0.474,
  tail 0.09).

Crowd (acceptance 4): simulated annotators over the training labels, 3 per
document from a pool of 20: 12 reliable (sensitivity 0.9, false-positive
rate 0.002 per label), 5 sloppy (0.7, 0.01), 3 spammers (every label ticked
with probability 0.02 whatever the document), drawn by
``skcrowd.datasets.simulate_multilabel_crowd``. The scored BBSN fits the
crowd ``(n, 20, 90)`` (NaN: not annotated) through
``MultiLabelDawidSkene`` (worker parameters shared by the labels; on the
training crowd its labels reach micro/macro/tail-macro F1 95.3/85.7/74.7
against 93.0/70.4/34.4 for per-label Dawid-Skene, which under-calls rare
labels; two seeds) and is compared with the same model fitted on gold.

Everything is the mean ± std over seeds (``random_state`` 0..S-1; the crowd
is drawn with the same seed). Hyperparameters (lr, thresholds) were chosen
on a split of the training set, never on the test set. Each fit runs in
its own process with one torch thread (``--jobs`` processes at once).

Usage::

    python benchmarks/bench_reuters.py                 # 3 seeds, full
    python benchmarks/bench_reuters.py --quick         # 1 seed, 2 epochs
    python benchmarks/bench_reuters.py --output benchmarks/results/bench_reuters.txt
    python benchmarks/bench_reuters.py --validation --seeds 2 --jobs 1 \
        --rows bbsn,asymmetric --width 1024 --epochs 20

- ``--validation``: no test document is used. Each seed splits the
  training documents 80/20 (``ShuffleSplit(test_size=0.2,
  random_state=seed)``); the TF-IDF vectoriser and the models are fitted
  on the 80% part and scored on the other 20%. The label groups are those
  of the 80% part's documents, and the macro scores average the labels
  with at least one held-out document (every label has a test document,
  so this is the test protocol's rule; a label without one scores 0
  whatever the model); micro-F1 pools every label.
- ``--width W`` (512): the width of the encoder's sparse first layer
  (``hidden_units=(W,)``) for every net; ``--epochs E`` (10; 2 with
  ``--quick``): ``max_epochs`` of every net.
- ``--rows``: comma-separated rows to run, out of ``svc``, ``bce``,
  ``focal``, ``class-balanced``, ``distribution-balanced``,
  ``asymmetric`` (the MLP rows), ``bbsn-paper``, ``bbsn-scaled``,
  ``bbsn`` (the scored row) and ``bbsn-crowd``; default: all of them
  (``--no-crowd``: all but ``bbsn-crowd``).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _crowd_common import Report, machine_line  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FILE = "reuters21578/modapte90.jsonl.gz"
LOSSES = ("bce", "focal", "class-balanced", "distribution-balanced", "asymmetric")
SVC = "TF-IDF + LinearSVC (balanced)"
#: the BBSN rows and their parameters; the targets are scored on BBSN_ROW
BBSN_ROW = "BBSN, scaled lr + Siamese pred."
BBSN_SCALED = "BBSN, alpha-scaled head lr"
BBSN_PAPER = "BBSN, as the paper's code"
BBSN_CROWD = "BBSN on crowd (MultiLabelDS)"
BBSN_PARAMS = {
    BBSN_ROW: {"scale_branch_lr": True, "prediction": "siamese"},
    BBSN_SCALED: {"scale_branch_lr": True},
    BBSN_PAPER: {},
    BBSN_CROWD: {"scale_branch_lr": True, "prediction": "siamese"},
}
#: ``--rows`` names of the rows, in the report's order
ROW_KEYS = {
    "svc": SVC,
    **{loss: f"MLP {loss}" for loss in LOSSES},
    "bbsn-paper": BBSN_PAPER,
    "bbsn-scaled": BBSN_SCALED,
    "bbsn": BBSN_ROW,
    "bbsn-crowd": BBSN_CROWD,
}
REFERENCE_SVC = {"micro": 0.869, "macro": 0.474, "tail": 0.09}
GOALS = {"macro": 0.60, "tail": 0.30, "micro": 0.87}
CROWD_GAP = 0.03
TIME_LIMIT_S = 600


def data_file():
    for root in (DATA, Path("../shared/data"), Path("/work/shared/data")):
        if (root / FILE).exists():
            return root / FILE
    return None


def load(path):
    """TF-IDF features and label matrices of the ModApte split at ``path``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from skcrowd.datasets import load_reuters21578

    data = load_reuters21578(data_home=Path(path).parent)
    vec = TfidfVectorizer(sublinear_tf=True)
    X_train = vec.fit_transform(data.data_train).astype(np.float32)
    X_test = vec.transform(data.data_test).astype(np.float32)
    return X_train, data.Y_train, X_test, data.Y_test


def load_validation(path, seed):
    """A seeded 80/20 split of the training documents at ``path``.

    TF-IDF features and label matrices of the 80% part (fit) and of the
    other 20% (held out); the vectoriser is fitted on the 80% part and the
    test documents are not used.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import ShuffleSplit

    from skcrowd.datasets import load_reuters21578

    data = load_reuters21578(data_home=Path(path).parent)
    split = ShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
    fit, held = next(split.split(data.Y_train))
    vec = TfidfVectorizer(sublinear_tf=True)
    X_fit = vec.fit_transform([data.data_train[i] for i in fit]).astype(np.float32)
    X_held = vec.transform([data.data_train[i] for i in held]).astype(np.float32)
    return X_fit, data.Y_train[fit], X_held, data.Y_train[held]


def report(Y_true, Y_pred, groups, labels=None):
    """Micro-F1, and macro-F1 over all labels and over each group's labels.

    ``labels``: the columns the macro scores average (``None``: all);
    micro-F1 always pools every label.
    """
    from skcrowd.metrics import multilabel_f1_report

    scores = multilabel_f1_report(Y_true, Y_pred, groups=groups)
    out = {"micro": scores["entire"]["micro"]}
    if labels is not None:
        scores = multilabel_f1_report(
            Y_true[:, labels], Y_pred[:, labels], groups=groups[labels]
        )
    out["macro"] = scores["entire"]["macro"]
    out.update({g: scores[g]["macro"] for g in ("head", "medium", "tail")})
    return out


def simulate_crowd(Y, seed, n_workers=20, per_doc=3):
    """Annotators over the gold labels: 12 reliable, 5 sloppy, 3 spammers.

    A spammer ticks every label with probability 0.02 whatever the
    document: sensitivity 0.02, specificity 0.98.
    """
    from skcrowd.datasets import simulate_multilabel_crowd

    sens = np.r_[np.full(12, 0.9), np.full(5, 0.7), np.full(3, 0.02)]
    fpr = np.r_[np.full(12, 0.002), np.full(5, 0.01), np.full(3, 0.02)]
    return simulate_multilabel_crowd(
        Y,
        n_workers=n_workers,
        labels_per_item=per_doc,
        sensitivity=sens,
        specificity=1.0 - fpr,
        random_state=seed,
    )


def run_job(job):
    """One fit (in its own process): returns the scores and the timings."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import warnings

    import torch

    from skcrowd.metrics import label_frequency_groups

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    row, seed, path, validation, width, max_epochs = job
    if validation:  # the test set: the held-out 20% of the training documents
        X_train, Y_train, X_test, Y_test = load_validation(path, seed)
    else:
        X_train, Y_train, X_test, Y_test = load(path)
    groups = label_frequency_groups(Y_train)  # head >= 35, tail <= 8
    # validation: the macro scores average the labels with a held-out document
    labels = np.flatnonzero(Y_test.sum(axis=0) > 0) if validation else None
    epochs = None
    start = time.perf_counter()
    if row == SVC:
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.svm import LinearSVC

        svc = LinearSVC(class_weight="balanced", random_state=seed)
        clf = OneVsRestClassifier(svc)
        clf.fit(X_train, Y_train)
        P = clf.predict(X_test)
        plain = P
    else:
        from skcrowd.multilabel import BBSNClassifier, MultiLabelNetClassifier

        target = Y_train
        if row in BBSN_PARAMS:
            clf = BBSNClassifier(random_state=seed, **BBSN_PARAMS[row])
            if row == BBSN_CROWD:
                from skcrowd.aggregation import MultiLabelDawidSkene

                clf.set_params(aggregator=MultiLabelDawidSkene())
                target = simulate_crowd(Y_train, seed)
        else:
            clf = MultiLabelNetClassifier(loss=row.split()[-1], random_state=seed)
        # the same encoder and epochs for every net (defaults: (512,), 10)
        clf.set_params(hidden_units=(width,), max_epochs=max_epochs)
        start = time.perf_counter()
        clf.fit(X_train, target)
        epochs = len(clf.history_)
        proba = clf.predict_proba(X_test)
        P = (proba >= clf.threshold_).astype(int)
        plain = (proba >= 0.5).astype(int)
    fit_s = time.perf_counter() - start
    return {
        "row": row,
        "seed": seed,
        "scores": report(Y_test, P, groups, labels),
        "scores_05": report(Y_test, plain, groups, labels),
        "n_docs": (X_train.shape[0], X_test.shape[0]),
        "n_terms": X_train.shape[1],
        "fit_s": fit_s,
        "epoch_s": None if epochs is None else fit_s / epochs,
        "group_sizes": {
            k: int(np.sum(groups == k)) if k != "entire" else len(groups)
            for k in ("entire", "head", "medium", "tail")
        },
        "scored_sizes": {
            k: int(np.sum(groups[labels] == k))
            for k in ("head", "medium", "tail")
        } if validation else None,
    }


def print_targets(out, mean, others, results, n_jobs, where=None):
    """The targets' verdicts for the scored BBSN row against ``others``.

    ``mean``: the mean scores of each row; ``where``: what is scored when it
    is not the test set (``--validation``).
    """
    bbsn = mean[BBSN_ROW]
    best_micro = max(mean[r]["micro"] for r in others)
    bbsn_fit = max(r["fit_s"] for r in results if r["row"] == BBSN_ROW)
    bbsn_epoch = np.mean([r["epoch_s"] for r in results if r["row"] == BBSN_ROW])

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    out(f"== targets (BBSN: the row {BBSN_ROW!r})"
        + (f", on {where}, other rows: those run ==" if where else " =="))
    best_macro_row = max(others, key=lambda r: mean[r]["macro"])
    best_tail_row = max(others, key=lambda r: mean[r]["tail"])
    out(f"{verdict(bbsn['macro'] > mean[best_macro_row]['macro'])}  BBSN macro-F1 "
        f"{100 * bbsn['macro']:.1f} above every other row (best other: "
        f"{best_macro_row} {100 * mean[best_macro_row]['macro']:.1f})")
    out(f"{verdict(bbsn['tail'] > mean[best_tail_row]['tail'])}  BBSN tail macro-F1 "
        f"{100 * bbsn['tail']:.1f} above every other row (best other: "
        f"{best_tail_row} {100 * mean[best_tail_row]['tail']:.1f})")
    out(f"{verdict(bbsn['micro'] >= best_micro - 0.01)}  BBSN micro-F1 "
        f"{100 * bbsn['micro']:.1f} within 1 point of the best row "
        f"({100 * best_micro:.1f})")
    for m, goal in GOALS.items():
        name = {"macro": "macro-F1", "tail": "tail macro-F1", "micro": "micro-F1"}[m]
        out(f"{verdict(bbsn[m] >= goal)}  BBSN {name} {100 * bbsn[m]:.1f} >= "
            f"{100 * goal:.0f} (absolute goal)")
    out(f"{verdict(bbsn_fit < TIME_LIMIT_S)}  a full BBSN run takes "
        f"{bbsn_fit / 60:.1f} min (slowest seed; {bbsn_epoch:.1f} s/epoch) < 10 min "
        f"on this 2-core machine ({n_jobs} fits at once)")
    if BBSN_CROWD in mean:
        gap = bbsn["micro"] - mean[BBSN_CROWD]["micro"]
        out(f"{verdict(gap <= CROWD_GAP)}  BBSN on the simulated crowd: micro-F1 "
            f"{100 * mean[BBSN_CROWD]['micro']:.1f} vs {100 * bbsn['micro']:.1f} "
            f"on gold, gap {100 * gap:.1f} <= 3 points")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs")
    parser.add_argument("--seeds", type=int, default=None, help="seeds (3)")
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    parser.add_argument("--no-crowd", action="store_true", help="skip the crowd row")
    parser.add_argument("--output", default=None, help="also write the report here")
    parser.add_argument("--validation", action="store_true",
                        help="fit on 80%% of the training documents, score on the "
                        "other 20%% (no test document)")
    parser.add_argument("--width", type=int, default=512,
                        help="encoder width of every net (512)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of every net (10; 2 with --quick)")
    parser.add_argument("--rows", default=None,
                        help="comma-separated rows: " + ",".join(ROW_KEYS))
    args = parser.parse_args(argv)

    path = data_file()
    if path is None:
        print(f"bench_reuters: skipped, {FILE} not found under ../shared/data")
        return 0
    n_seeds = args.seeds or (1 if args.quick else 3)
    epochs = args.epochs or (2 if args.quick else 10)
    rows = [SVC, *(f"MLP {loss}" for loss in LOSSES), BBSN_PAPER, BBSN_SCALED, BBSN_ROW]
    if not args.no_crowd:
        rows.append(BBSN_CROWD)
    if args.rows:
        keys = [k.strip() for k in args.rows.split(",") if k.strip()]
        unknown = [k for k in keys if k not in ROW_KEYS]
        if unknown or not keys:
            parser.error(f"--rows: unknown {unknown}, "
                         f"choose from {', '.join(ROW_KEYS)}")
        rows = [row for key, row in ROW_KEYS.items() if key in keys]
    where = "the held-out 20% of the training set"  # --validation
    # the slow fits first, so that the processes finish together
    jobs = [
        (r, s, str(path), args.validation, args.width, epochs)
        for r in reversed(rows)
        for s in range(n_seeds)
    ]

    out = Report()
    out(f"bench_reuters  {time.strftime('%Y-%m-%d')}  {machine_line(1)}")
    out(f"{args.jobs} fit(s) at once, one torch thread each"
        + ("  [QUICK: 2 epochs, targets not meaningful]" if args.quick else ""))
    if args.validation or args.rows or args.width != 512 or args.epochs:
        split = ("VALIDATION (80/20 split of the training documents per seed, "
                 "no test document), ")
        out(f"settings: {split if args.validation else ''}encoder width "
            f"{args.width}, {epochs} epochs (every net); rows: {', '.join(rows)}")
    start = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for res in pool.map(run_job, jobs):
            results.append(res)
            sc = res["scores"]
            print(f"  done {res['row']} seed {res['seed']}: micro {sc['micro']:.3f} "
                  f"macro {sc['macro']:.3f} tail {sc['tail']:.3f} "
                  f"({res['fit_s']:.0f} s)", flush=True)
    sizes = results[0]["group_sizes"]
    if args.validation:
        n_fit, n_held = results[0]["n_docs"]
        out("data: Reuters-21578 ModApte, 90 labels, the "
            f"{n_fit + n_held:,} training documents split 80/20 per seed ({n_fit:,} "
            f"fit / {n_held:,} held out); labels per group (documents of the 80% "
            "part) / of them with a held-out document:")
        for s in range(n_seeds):
            r = next(r for r in results if r["seed"] == s)
            g, k = r["group_sizes"], r["scored_sizes"]
            out(f"  seed {s}: head>=35 {g['head']}/{k['head']}, medium 9-34 "
                f"{g['medium']}/{k['medium']}, tail<=8 {g['tail']}/{k['tail']}")
    else:
        out("data: Reuters-21578 ModApte, 90 labels, 7,770 train / 3,019 test "
            "documents; labels per group (training documents): head>=35 "
            f"{sizes['head']}, medium 9-34 {sizes['medium']}, tail<=8 {sizes['tail']}")
    n_terms = np.mean([r["n_terms"] for r in results]) / 1000
    out(f"encoder (every net): TF-IDF (sublinear tf, {n_terms:.0f}k terms) -> sparse "
        f"first layer {args.width} -> ReLU -> dropout 0.2; AdamW lr 1e-2 (lazy on "
        "the sparse layer), 10% warm-up then linear decay, batch 32")
    out("levers used: per-label thresholds tuned on a 10% validation split of the "
        "training set (shrunk towards the global one by 4/(n_c+4), clipped to "
        "[0.1, 0.9]); the epoch with the best validation micro+macro F1 is kept; "
        f"the sparse TF-IDF first layer of width {args.width}; BBSN alpha-scaled: "
        "the BBN heads' learning rates times alpha and 1 - alpha "
        "(scale_branch_lr=True); BBSN Siamese pred.: the mean of the two Siamese "
        "classifiers' logits (prediction='siamese'); crowd: MultiLabelDawidSkene")
    if args.validation:
        out(f"mean ± std over {n_seeds} seed(s); F1 x 100 on {where}; macro over "
            "the labels of each group with a held-out document, all held-out "
            "documents")
    else:
        out(f"mean ± std over {n_seeds} seed(s); F1 x 100 on the test set; macro "
            "over the labels of each group, all test documents")
    out()

    def summary(key):
        table = {}
        for row in rows:
            rs = [r for r in results if r["row"] == row]
            table[row] = {
                m: np.array([r[key][m] for r in rs])
                for m in ("micro", "macro", "head", "medium", "tail")
            }
        return table

    def fmt(v):
        return f"{100 * v.mean():5.1f} ± {100 * v.std():3.1f}"

    def print_table(table, title):
        out(title)
        out(f"{'row':32s} {'micro-F1':>12s} {'macro-F1':>12s} {'head':>12s} "
            f"{'medium':>12s} {'tail':>12s} {'s/epoch':>8s} {'fit s':>7s}")
        for row in rows:
            t = table[row]
            rs = [r for r in results if r["row"] == row]
            ep = [r["epoch_s"] for r in rs if r["epoch_s"] is not None]
            ep_s = f"{np.mean(ep):8.1f}" if ep else f"{'-':>8s}"
            fit_s = np.mean([r["fit_s"] for r in rs])
            out(f"{row:32s} {fmt(t['micro']):>12s} {fmt(t['macro']):>12s} "
                f"{fmt(t['head']):>12s} {fmt(t['medium']):>12s} {fmt(t['tail']):>12s} "
                f"{ep_s} {fit_s:7.0f}")
        out()

    tuned = summary("scores")
    print_table(tuned, f"== {'validation' if args.validation else 'test'} F1, "
                "the estimators' thresholds (tuned per label on validation; "
                "LinearSVC: its decision function) ==")
    print_table(summary("scores_05"), "== the same models at threshold 0.5 ==")

    mean = {row: {m: float(v.mean()) for m, v in t.items()} for row, t in tuned.items()}
    others = [r for r in rows if r not in BBSN_PARAMS]
    if BBSN_ROW in mean and others:  # --rows may leave out either
        print_targets(out, mean, others, results, args.jobs,
                      where if args.validation else None)
    if SVC in mean and not args.validation:
        svc = mean[SVC]
        out(f"reference check: LinearSVC here micro {100 * svc['micro']:.1f}, macro "
            f"{100 * svc['macro']:.1f}, tail {100 * svc['tail']:.1f} (README: "
            f"{100 * REFERENCE_SVC['micro']:.1f}, {100 * REFERENCE_SVC['macro']:.1f}, "
            f"{100 * REFERENCE_SVC['tail']:.0f})")
    out(f"total wall time {(time.perf_counter() - start) / 60:.1f} min")
    if args.output:
        out.save(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
