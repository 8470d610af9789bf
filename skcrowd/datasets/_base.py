"""Loaders of the real crowdsourced datasets bundled with skcrowd.

The files in ``skcrowd/datasets/data`` are the public research datasets
described in each loader, repackaged without changing any value: the CSV
files byte for byte, compressed with ``gzip.compress(raw, compresslevel=9,
mtime=0)`` so that they are reproducible. They are located with
:mod:`importlib.resources`, so the loaders work from an installed wheel; no
download happens at run time and no loader imports torch.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..utils import crowd_matrix_from_long

__all__ = ["load_music", "load_truth_inference"]


def _read_csv(filename):
    """Read one bundled gzip CSV file into a DataFrame."""
    import pandas as pd

    path = resources.files("skcrowd.datasets").joinpath("data", filename)
    with path.open("rb") as f:
        return pd.read_csv(f, compression="gzip")


_ZHENG = (
    "Zheng, Y., Li, G., Li, Y., Shan, C. and Cheng, R. (2017). Truth inference "
    "in crowdsourcing: is the problem solved? Proceedings of the VLDB "
    "Endowment 10(5), 541-552. Data: github.com/zhydhkcws/crowd_truth_infer."
)
_SNOW = (
    "Snow, R., O'Connor, B., Jurafsky, D. and Ng, A. Y. (2008). Cheap and "
    "fast -- but is it good? Evaluating non-expert annotations for natural "
    "language tasks. Proceedings of EMNLP 2008, 254-263. Data as shipped in "
    "github.com/bob-carpenter/case-studies."
)

# name -> (n_items, n_labels, n_workers, n_classes, description, citation)
_TRUTH_INFERENCE = {
    "bluebirds": (
        108,
        4212,
        39,
        2,
        "Images of birds: is it an Indigo Bunting or a Blue Grosbeak? Every "
        "worker labelled every image.",
        "Welinder, P., Branson, S., Belongie, S. and Perona, P. (2010). The "
        "multidimensional wisdom of crowds. Advances in Neural Information "
        "Processing Systems 23 (NeurIPS 2010), 2424-2432. Data: "
        "github.com/welinder/cubam.",
    ),
    "dog": (
        807,
        8070,
        109,
        4,
        "Images of dogs from ImageNet, four breeds.",
        "Zhou, D., Basu, S., Mao, Y. and Platt, J. C. (2012). Learning from the "
        "wisdom of crowds by minimax entropy. Advances in Neural Information "
        "Processing Systems 25 (NeurIPS 2012). As prepared by " + _ZHENG,
    ),
    "rte": (
        800,
        8000,
        164,
        2,
        "Recognising textual entailment: does the hypothesis follow from the "
        "text? (PASCAL RTE-1 pairs.)",
        _SNOW,
    ),
    "temp": (
        462,
        4620,
        76,
        2,
        "Temporal ordering of event pairs in text: did one event happen "
        "before or after the other? (labels 1 and 2).",
        _SNOW,
    ),
    "product": (
        8315,
        24945,
        176,
        2,
        "Entity resolution: do two product records refer to the same "
        "product? The source's task ids carried the true label as a suffix; "
        "it was removed.",
        "Wang, J., Kraska, T., Franklin, M. J. and Feng, J. (2012). CrowdER: "
        "crowdsourcing entity resolution. Proceedings of the VLDB Endowment "
        "5(11), 1483-1494. As prepared by " + _ZHENG,
    ),
}

TRUTH_INFERENCE_NAMES = tuple(_TRUTH_INFERENCE)


def _truth_inference_descr(name):
    n_items, n_labels, n_workers, K, what, citation = _TRUTH_INFERENCE[name]
    return (
        f"{name}: a truth-inference dataset (crowd labels with gold).\n\n"
        f"{what}\n\n"
        f"items: {n_items}, labels: {n_labels}, workers: {n_workers}, "
        f"classes: {K}. Every item has a gold label.\n\n"
        f"Source (cite when you use it):\n{citation}\n\n"
        "Bundled in skcrowd as answers.csv (task,worker,label) and gold.csv "
        "(task,label), values unchanged."
    )


def load_truth_inference(name, *, as_frame=False, sparse=False):
    """Load one of the bundled truth-inference datasets (crowd labels + gold).

    ====================  =====  ======  =======  ==
    name                  items  labels  workers  K
    ====================  =====  ======  =======  ==
    ``"bluebirds"``       108    4212    39       2
    ``"dog"``             807    8070    109      4
    ``"rte"``             800    8000    164      2
    ``"temp"``            462    4620    76       2
    ``"product"``         8315   24945   176      2
    ====================  =====  ======  =======  ==

    Sources (cite the original work when you use a dataset):

    - bluebirds: Welinder, Branson, Belongie & Perona, "The multidimensional
      wisdom of crowds", NeurIPS 2010.
    - dog: Zhou, Basu, Mao & Platt, "Learning from the wisdom of crowds by
      minimax entropy", NeurIPS 2012; as prepared by Zheng, Li, Li, Shan &
      Cheng, "Truth inference in crowdsourcing: is the problem solved?",
      PVLDB 10(5), 2017.
    - rte, temp: Snow, O'Connor, Jurafsky & Ng, "Cheap and fast -- but is it
      good? Evaluating non-expert annotations for natural language tasks",
      EMNLP 2008.
    - product: Wang, Kraska, Franklin & Feng, "CrowdER: crowdsourcing entity
      resolution", PVLDB 5(11), 2012; as prepared by Zheng et al. (PVLDB
      2017).

    Parameters
    ----------
    name : {"bluebirds", "dog", "rte", "temp", "product"}
        The dataset.
    as_frame : bool, default=False
        Return ``crowd`` as a DataFrame (index: task ids, columns: worker ids)
        and ``y_gold`` as a Series indexed by task id.
    sparse : bool, default=False
        Return ``crowd`` as a ``scipy.sparse.csr_array`` of label *codes*:
        the stored entries (explicit zeros included) are indices into
        ``classes`` and the unstored cells are missing, as
        :func:`skcrowd.utils.crowd_matrix_from_long` returns with
        ``sparse=True``. Cannot be combined with ``as_frame``.

    Returns
    -------
    data : Bunch
        With keys

        - ``crowd``: ndarray of shape (n_items, n_workers), the crowd label
          matrix (float, NaN where the worker did not label the item), or the
          sparse / DataFrame form above;
        - ``y_gold``: ndarray of shape (n_items,), the gold label of each row
          of ``crowd`` (NaN where an item has no gold; here every item has
          one);
        - ``tasks``: ndarray of shape (n_items,), the task id of each row;
        - ``workers``: ndarray of shape (n_workers,), the worker id of each
          column;
        - ``classes``: ndarray of shape (n_classes,), the sorted labels;
        - ``answers``: DataFrame, the long table ``task, worker, label``, one
          row per crowd label, as in the source;
        - ``DESCR``: str, description and citation;
        - ``name``: str.

    Raises
    ------
    ValueError
        If ``name`` is not one of the bundled datasets.

    Examples
    --------
    >>> from skcrowd.datasets import load_truth_inference
    >>> data = load_truth_inference("bluebirds")
    >>> data.crowd.shape, data.y_gold.shape
    ((108, 39), (108,))
    >>> data.classes
    array([0, 1])
    >>> print(data.DESCR.splitlines()[0])
    bluebirds: a truth-inference dataset (crowd labels with gold).
    """
    if not isinstance(name, str) or name not in _TRUTH_INFERENCE:
        raise ValueError(
            f"Unknown truth-inference dataset {name!r}; the bundled ones are "
            f"{list(_TRUTH_INFERENCE)}."
        )
    if as_frame and sparse:
        raise ValueError("as_frame=True and sparse=True cannot be combined.")
    import pandas as pd

    answers = _read_csv(f"truth_inference_{name}_answers.csv.gz")
    gold = _read_csv(f"truth_inference_{name}_gold.csv.gz")
    crowd, tasks, workers, classes = crowd_matrix_from_long(
        answers, task="task", worker="worker", label="label", sparse=sparse
    )
    y_gold = _align(gold["task"], gold["label"], tasks)
    if as_frame:
        index = pd.Index(tasks, name="task")
        columns = pd.Index(workers, name="worker")
        crowd = pd.DataFrame(crowd, index=index, columns=columns)
        y_gold = pd.Series(y_gold, index=index, name="gold")
    return Bunch(
        crowd=crowd,
        y_gold=y_gold,
        tasks=tasks,
        workers=workers,
        classes=classes,
        answers=answers,
        DESCR=_truth_inference_descr(name),
        name=name,
    )


def _align(keys, values, targets):
    """``values`` of ``keys`` at ``targets``; NaN (None for strings) if absent."""
    import pandas as pd

    values = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if values.dtype.kind == "O" or values.dtype.kind in "US":
        values = values.astype(object)
    pos = pd.Index(keys).get_indexer(targets)
    if np.all(pos >= 0):
        return values[pos]
    if values.dtype.kind in "iufb":
        out = np.full(len(targets), np.nan)
    else:
        out = np.full(len(targets), None, dtype=object)
    out[pos >= 0] = values[pos[pos >= 0]]
    return out


_MUSIC_DESCR = """\
music: music genre classification with real crowd labels (Amazon Mechanical Turk).

1,000 songs of 30 s from the GTZAN collection, 10 genres, described by 124
audio features (feature0..feature123). 700 training songs were labelled by 44
workers on Amazon Mechanical Turk: 2,945 labels, a song has 1 to 7 of them;
300 test songs have gold labels only.

- X_train (700, 124), crowd_train (700, 44) genre strings (NaN missing),
  y_train_gold (gold of the training songs: for evaluation only, never train
  on it), X_test (300, 124), y_test.
- answers: the long table WorkerID, Input.song, Input.true_label,
  Answer.pred_label; Input.true_label is gold as well.

Reference protocol (Herde et al., Annot-Mix, ECAI 2024): MLP 256-128 with
dropout 0.5 on standardised features, 50 epochs, last-epoch test accuracy,
mean over seeds. Test accuracy (%): trained on gold 79.6, on majority vote
66.1, CrowdLayer 69.8, GeoCrowdNet 70.2, MaDL 72.0, Annot-Mix 73.8.

Source (cite when you use it):
Rodrigues, F., Pereira, F. and Ribeiro, B. (2013). Learning from multiple
annotators: distinguishing good from random labelers. Pattern Recognition
Letters 34(12), 1428-1436. Data as shipped in
github.com/shahanaibrahimosu/end-to-end-crowdsourcing; values unchanged.
"""


def load_music(*, as_frame=False):
    """Load the Music genre dataset: features, real crowd labels, gold test set.

    700 training songs labelled by 44 Amazon Mechanical Turk workers (2,945
    labels over 10 genres) and 300 test songs with gold genres, each
    described by 124 audio features. Collected by Rodrigues, Pereira &
    Ribeiro, "Learning from multiple annotators: distinguishing good from
    random labelers", Pattern Recognition Letters 34(12), 2013 (cite it when
    you use the data); bundled as shipped in
    shahanaibrahimosu/end-to-end-crowdsourcing.

    Parameters
    ----------
    as_frame : bool, default=False
        Return ``X_train``/``X_test`` and ``crowd_train`` as DataFrames
        indexed by song id (columns: feature names / worker ids) and the
        gold labels as Series.

    Returns
    -------
    data : Bunch
        With keys

        - ``X_train``: ndarray of shape (700, 124), float64;
        - ``crowd_train``: ndarray of shape (700, 44), object, the genre
          given by each worker to each training song (NaN where missing),
          rows aligned with ``X_train``;
        - ``y_train_gold``: ndarray of shape (700,), the gold genres of the
          training songs, for evaluating aggregation only: never train on it;
        - ``X_test``: ndarray of shape (300, 124), float64;
        - ``y_test``: ndarray of shape (300,), the gold genres of the test
          songs;
        - ``ids_train``, ``ids_test``: the song ids (file names) of the rows;
        - ``feature_names``: ndarray of shape (124,);
        - ``workers``: ndarray of shape (44,), worker ids of the columns of
          ``crowd_train``;
        - ``classes``: ndarray of shape (10,), the sorted genres;
        - ``answers``: DataFrame, the raw long table (its
          ``Input.true_label`` column is gold);
        - ``DESCR``: str, description, reference results and citation.

    Examples
    --------
    >>> from skcrowd.datasets import load_music
    >>> music = load_music()
    >>> music.X_train.shape, music.crowd_train.shape, music.X_test.shape
    ((700, 124), (700, 44), (300, 124))
    >>> music.classes
    array(['blues', 'classical', 'country', 'disco', 'hiphop', 'jazz', 'metal',
           'pop', 'reggae', 'rock'], dtype=object)
    """
    import pandas as pd

    train = _read_csv("music_train.csv.gz")
    test = _read_csv("music_test.csv.gz")
    answers = _read_csv("music_answers.csv.gz")
    feature_names = np.array([c for c in train.columns if c.startswith("feature")])
    X_train = train[feature_names].to_numpy(dtype=np.float64)
    X_test = test[feature_names].to_numpy(dtype=np.float64)
    ids_train = train["id"].to_numpy(dtype=object)
    ids_test = test["id"].to_numpy(dtype=object)
    y_train_gold = train["class"].to_numpy(dtype=object)
    y_test = test["class"].to_numpy(dtype=object)

    crowd, songs, workers, crowd_classes = crowd_matrix_from_long(
        answers, task="Input.song", worker="WorkerID", label="Answer.pred_label"
    )
    pos = pd.Index(ids_train).get_indexer(songs)
    if np.any(pos < 0):
        raise RuntimeError("The bundled music answers label songs outside train.csv.")
    crowd_train = np.full((len(ids_train), len(workers)), np.nan, dtype=object)
    crowd_train[pos] = crowd
    classes = np.unique(
        np.concatenate([crowd_classes.astype(object), y_train_gold, y_test])
    )

    if as_frame:
        train_index = pd.Index(ids_train, name="song")
        test_index = pd.Index(ids_test, name="song")
        X_train = pd.DataFrame(X_train, index=train_index, columns=feature_names)
        X_test = pd.DataFrame(X_test, index=test_index, columns=feature_names)
        crowd_train = pd.DataFrame(
            crowd_train, index=train_index, columns=pd.Index(workers, name="worker")
        )
        y_train_gold = pd.Series(y_train_gold, index=train_index, name="genre")
        y_test = pd.Series(y_test, index=test_index, name="genre")
    return Bunch(
        X_train=X_train,
        crowd_train=crowd_train,
        y_train_gold=y_train_gold,
        X_test=X_test,
        y_test=y_test,
        ids_train=ids_train,
        ids_test=ids_test,
        feature_names=feature_names,
        workers=workers,
        classes=classes,
        answers=answers,
        DESCR=_MUSIC_DESCR,
    )
