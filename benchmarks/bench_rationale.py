"""Benchmark: RationaleCoLearner against CrowdClassifier, with ablations.

Two studies, one run, every model single-threaded:

1. A simulated hard task (``make_rationale_crowd`` defaults: 12 latent
   attributes, 3 classes that depend weakly on them, 40 features mixing the
   attributes with nuisance factors, 20 workers, 4 per item; about half the
   labels are "cannot judge" and about 55% of the others are right; every
   worker who saw an item describes its attributes). 1,000 training items,
   2,000 test items with gold classes, 5 seeds. Gold accuracy of majority
   vote -> logistic regression, CrowdClassifier and RationaleCoLearner with
   the same backbone (MLP 64) and crowd model (crowdlayer-mw), the same
   training (60 epochs, Adam 1e-3, batches of 64), and the ablations: the
   full shared-private design (private encoders, reconstruction,
   orthogonality, rationale head) and each part removed; also the AUROC of
   the predicted rationale against the true attributes of the test items.

2. YELP-HAT (``load_yelp_hat``: 300 reviews, 3 workers who answered
   positive / negative / "idk" and highlighted the words behind their
   answer). 5-fold cross-validation, repeated 3 times. To make the task
   hard, the class labels of workers 1 and 2 are hidden and worker 0's are
   kept on 30% of the training reviews only; the rationales of workers 0
   and 1 are kept on every training review, worker 2's are held out. X is
   TF-IDF over the rationale vocabulary (``rationale_terms``; idf fitted on
   the training reviews). Gold accuracy on the test reviews; rationale
   agreement: for each test review, the average precision (AUPRC) of the
   predicted token scores against the held-out worker 2's highlights,
   averaged over reviews, against a TF-IDF-weight baseline and a stronger
   one, each term's highlight rate in the training reviews.

Run: ``python benchmarks/bench_rationale.py`` (about 12 minutes on 2 shared
cores); the tables are printed and written to
``benchmarks/results/bench_rationale.txt``.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import torch  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from skcrowd.aggregation import MajorityVote  # noqa: E402
from skcrowd.classification import AggregatedClassifier, CrowdClassifier  # noqa: E402
from skcrowd.datasets import (  # noqa: E402
    load_yelp_hat,
    make_rationale_crowd,
    rationale_terms,
)
from skcrowd.rationale import RationaleCoLearner  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=ConvergenceWarning)
LINES = []


def say(line=""):
    print(line, flush=True)
    LINES.append(line)


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std():.4f}"


# ----------------------------------------------------------------- simulation
FULL = dict(
    rationale_weight=3.0,
    reconstruction_weight=0.1,
    orthogonality_weight=0.1,
    private_encoders=True,
)
DEFAULT = dict(FULL, private_encoders=False)  # RationaleCoLearner's defaults
SIM_METHODS = [
    ("majority vote -> logistic regression", None),
    ("CrowdClassifier", "cc"),
    ("RationaleCoLearner (defaults)", DEFAULT),
    ("  defaults - reconstruction", dict(DEFAULT, reconstruction_weight=0.0)),
    ("full design (shared+private, rec, orth, rat)", FULL),
    ("  full - reconstruction", dict(FULL, reconstruction_weight=0.0)),
    ("  full - private encoders (= defaults)", DEFAULT),
    ("  full - orthogonality", dict(FULL, orthogonality_weight=0.0)),
    ("  full - rationale head", dict(FULL, rationale_weight=0.0)),
]


def simulation(seeds, n_train=1000, n_test=2000):
    say(
        f"== 1. Simulated hard task: make_rationale_crowd, {n_train} training / "
        f"{n_test} test items, {len(seeds)} seeds =="
    )
    common = dict(hidden_units=(64,), max_epochs=60, lr=1e-3, batch_size=64)
    acc = {name: [] for name, _ in SIM_METHODS}
    fit_time = {name: [] for name, _ in SIM_METHODS}
    auroc, label_acc, cannot = [], [], []
    cache = {}
    for seed in seeds:
        info = make_rationale_crowd(
            n_samples=n_train + n_test, random_state=seed, return_info=True
        )
        X, Y, y = info.X, info.Y, info.y_true
        tr, te = np.arange(n_train), np.arange(n_train, n_train + n_test)
        # the training items' rationales, still sparse (no dense n x W x T)
        item, worker, attr = info.R.coords
        keep = item < n_train
        R_tr = sp.coo_array(
            (info.R.data[keep], (item[keep], worker[keep], attr[keep])),
            shape=(n_train, *info.R.shape[1:]),
        )
        given = ~np.isnan(Y[tr])
        label_acc.append((Y[tr] == y[tr, None])[given].mean())
        cannot.append(1 - given.sum() / info.seen[tr].sum())
        cache.clear()
        for name, params in SIM_METHODS:
            key = repr(params)
            if key in cache:  # the same model under another name
                acc[name].append(acc[cache[key]][-1])
                fit_time[name].append(fit_time[cache[key]][-1])
                continue
            cache[key] = name
            start = time.perf_counter()
            if params is None:
                est = AggregatedClassifier(
                    MajorityVote(random_state=seed), LogisticRegression(max_iter=2000)
                ).fit(X[tr], Y[tr])
            elif params == "cc":
                est = CrowdClassifier(**common, random_state=seed).fit(X[tr], Y[tr])
            else:
                est = RationaleCoLearner(**common, **params, random_state=seed)
                est.fit(X[tr], Y[tr], rationales=R_tr)
            fit_time[name].append(time.perf_counter() - start)
            acc[name].append(np.mean(est.predict(X[te]) == y[te]))
            if params is DEFAULT:
                proba = est.predict_rationale_proba(X[te])
                auroc.append(roc_auc_score(info.attributes[te].ravel(), proba.ravel()))
        say(
            f"seed {seed}: "
            + ", ".join(
                f"{name.strip()[:24]} {acc[name][-1]:.3f}"
                for name, _ in SIM_METHODS[:3]
            )
        )
    say(
        f"crowd: {mean_std(label_acc)} of the given class labels right, "
        f"{mean_std(cannot)} of the seen (item, worker) pairs 'cannot judge'"
    )
    say(f"{'method':46s} {'gold accuracy (mean ± sd)':>26s} {'fit s':>7s}")
    for name, _ in SIM_METHODS:
        say(f"{name:46s} {mean_std(acc[name]):>26s} {np.mean(fit_time[name]):7.1f}")
    say(
        "RationaleCoLearner (defaults): AUROC of the predicted rationale against "
        f"the test items' true attributes {mean_std(auroc)}"
    )
    gain = np.mean(acc["RationaleCoLearner (defaults)"]) - np.mean(
        acc["CrowdClassifier"]
    )
    return gain, acc


# ------------------------------------------------------------------- YELP-HAT
YELP_METHODS = [
    ("majority vote -> logistic regression", None),
    ("CrowdClassifier", "cc"),
    (
        "RationaleCoLearner (text: input terms, gate)",
        dict(rationale_candidates="input", rationale_gate=True),
    ),
    (
        "  - reconstruction",
        dict(
            rationale_candidates="input", rationale_gate=True, reconstruction_weight=0.0
        ),
    ),
    ("  - gate", dict(rationale_candidates="input")),
    (
        "  + private encoders, orthogonality",
        dict(rationale_candidates="input", rationale_gate=True, private_encoders=True),
    ),
]


def _token_scores(term_scores, token_terms):
    return np.where(token_terms >= 0, term_scores[np.maximum(token_terms, 0)], 0.0)


def _mean_ap(term_scores, items, data, worker):
    """Mean over reviews of the AUPRC of token scores vs one worker's highlights."""
    aps = []
    for row, i in enumerate(items):
        truth = data.token_masks[i][worker]
        if truth.sum() == 0 or truth.sum() == len(truth):
            continue
        aps.append(
            average_precision_score(
                truth, _token_scores(term_scores[row], data.token_terms[i])
            )
        )
    return float(np.mean(aps))


def yelp_hat(repeats, keep_fraction=0.3):
    data = load_yelp_hat()
    n = len(data.texts)
    say(
        f"\n== 2. YELP-HAT: {n} reviews, 5-fold CV x {repeats} repeats; class labels "
        f"of worker 0 only, on {keep_fraction:.0%} of the training reviews; "
        "rationales of workers 0 and 1; worker 2's highlights held out =="
    )
    common = dict(hidden_units=(64,), max_epochs=60, lr=1e-3, batch_size=64)
    acc = {name: [] for name, _ in YELP_METHODS}
    ap = {name: [] for name, params in YELP_METHODS if isinstance(params, dict)}
    ap_tfidf, ap_rate, n_labels = [], [], []
    dense_R = data.rationales.toarray()  # 300 x 3 x 2520 uint8: 2.3 MB
    for repeat in range(repeats):
        folds = KFold(5, shuffle=True, random_state=repeat).split(np.arange(n))
        for fold, (tr, te) in enumerate(folds):
            rng = np.random.RandomState(100 * repeat + fold)
            vec = TfidfVectorizer(analyzer=rationale_terms, vocabulary=data.vocabulary)
            vec.fit([data.texts[i] for i in tr])
            X = vec.transform(data.texts).astype(np.float32)
            Y = np.full((n, 3), np.nan)
            kept = tr[rng.uniform(size=len(tr)) < keep_fraction]
            Y[kept, 0] = data.crowd[kept, 0]
            n_labels.append(int((~np.isnan(Y[tr])).sum()))
            R_tr = sp.coo_array(dense_R[tr][:, :2])  # workers 0 and 1
            # rationale baselines on the test reviews
            ap_tfidf.append(_mean_ap(X[te].toarray(), te, data, worker=2))
            marked = dense_R[tr][:, :2].max(axis=1).sum(axis=0)
            present = np.asarray((X[tr] != 0).sum(axis=0)).ravel()
            rate = np.where(
                present > 0,
                marked / np.maximum(present, 1),
                marked.sum() / present.sum(),
            )
            ap_rate.append(_mean_ap(np.tile(rate, (len(te), 1)), te, data, worker=2))
            for name, params in YELP_METHODS:
                seed = 10 * repeat + fold
                if params is None:
                    est = AggregatedClassifier(
                        MajorityVote(random_state=seed),
                        LogisticRegression(max_iter=2000),
                    ).fit(X[tr], Y[tr])
                    pred = est.predict(X[te])
                elif params == "cc":
                    est = CrowdClassifier(**common, random_state=seed)
                    est.fit(X[tr].toarray(), Y[tr])
                    pred = est.predict(X[te].toarray())
                else:
                    est = RationaleCoLearner(**common, **params, random_state=seed)
                    est.fit(X[tr], Y[tr], rationales=R_tr)
                    pred = est.predict(X[te])
                    ap[name].append(
                        _mean_ap(est.predict_rationale_proba(X[te]), te, data, 2)
                    )
                acc[name].append(np.mean(pred == data.y_gold[te]))
            say(
                f"repeat {repeat} fold {fold}: {n_labels[-1]} class labels; "
                + ", ".join(
                    f"{name.strip()[:22]} {acc[name][-1]:.3f}"
                    for name, _ in YELP_METHODS[:3]
                )
            )
    say(f"class labels per training fold: {np.mean(n_labels):.1f} (of 720)")
    say(f"{'method':46s} {'gold accuracy':>17s} {'AUPRC vs worker 2':>19s}")
    for name, _ in YELP_METHODS:
        rat = f"{mean_std(ap[name]):>19s}" if name in ap else f"{'-':>19s}"
        say(f"{name:46s} {mean_std(acc[name]):>17s} {rat}")
    say(
        f"{'baseline: TF-IDF weight of the token':46s} {'-':>17s} "
        f"{mean_std(ap_tfidf):>19s}"
    )
    say(
        f"{'baseline: training highlight rate of the term':46s} {'-':>17s} "
        f"{mean_std(ap_rate):>19s}"
    )
    main = YELP_METHODS[2][0]
    return (
        np.mean(acc[main]) - np.mean(acc["CrowdClassifier"]),
        np.mean(ap[main]) - np.mean(ap_tfidf),
        acc,
        ap,
        ap_tfidf,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out",
        default=str(Path(__file__).parent / "results" / "bench_rationale.txt"),
    )
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    say(
        f"bench_rationale  python {platform.python_version()}, torch "
        f"{torch.__version__}, 1 thread per model, {os.cpu_count()} cores (shared), "
        f"load average {load:.1f}"
    )
    say()
    start = time.perf_counter()
    gain, _ = simulation(list(range(args.seeds)))
    acc_gain, ap_gain, *_ = yelp_hat(args.repeats)
    say("\n== acceptance ==")
    say(
        f"2. simulation: RationaleCoLearner - CrowdClassifier = {100 * gain:+.1f} "
        f"points of gold accuracy (mean over {args.seeds} seeds; >= +5): "
        f"{'PASS' if gain >= 0.05 else 'FAIL'}"
    )
    say(
        f"3. YELP-HAT: accuracy RationaleCoLearner - CrowdClassifier = "
        f"{100 * acc_gain:+.1f} points (>= 0): {'PASS' if acc_gain >= 0 else 'FAIL'}; "
        f"rationale AUPRC - TF-IDF baseline = {ap_gain:+.3f} (> 0): "
        f"{'PASS' if ap_gain > 0 else 'FAIL'}"
    )
    say(f"total time {time.perf_counter() - start:.0f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
