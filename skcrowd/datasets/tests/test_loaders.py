"""Tests of the bundled real-data loaders (the package's own copies)."""

import gzip
import subprocess
import sys
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skcrowd.datasets import load_music, load_truth_inference
from skcrowd.utils import check_crowd_matrix

# name: (items, labels, workers, K, majority-vote accuracy on gold)
TRUTH_INFERENCE = {
    "bluebirds": (108, 4212, 39, 2, 0.759),
    "dog": (807, 8070, 109, 4, 0.818),
    "rte": (800, 8000, 164, 2, 0.919),
    "temp": (462, 4620, 76, 2, 0.939),
    "product": (8315, 24945, 176, 2, 0.897),
}


def _majority_vote(crowd, classes):
    """Plain majority vote, ties to the smallest class."""
    votes = np.stack([(crowd == c).sum(axis=1) for c in classes], axis=1)
    return classes[votes.argmax(axis=1)]


@pytest.mark.parametrize("name", list(TRUTH_INFERENCE))
def test_truth_inference_counts(name):
    n_items, n_labels, n_workers, K, _ = TRUTH_INFERENCE[name]
    data = load_truth_inference(name)
    assert data.name == name
    assert data.crowd.shape == (n_items, n_workers)
    assert data.crowd.dtype == np.float64
    assert int((~np.isnan(data.crowd)).sum()) == n_labels
    assert len(data.answers) == n_labels
    assert list(data.answers.columns) == ["task", "worker", "label"]
    assert len(data.classes) == K
    assert len(data.tasks) == n_items and len(data.workers) == n_workers
    assert data.y_gold.shape == (n_items,)
    # every task has gold, and gold labels are classes
    assert not pd.isna(data.y_gold).any()
    assert np.isin(data.y_gold, data.classes).all()
    # the one validator accepts the crowd and finds the same classes
    crowd = check_crowd_matrix(data.crowd)
    np.testing.assert_array_equal(crowd.classes, data.classes)
    assert crowd.n_labels == n_labels


@pytest.mark.parametrize("name", list(TRUTH_INFERENCE))
def test_truth_inference_majority_vote_agrees_with_gold(name):
    expected = TRUTH_INFERENCE[name][-1]
    data = load_truth_inference(name)
    accuracy = np.mean(_majority_vote(data.crowd, data.classes) == data.y_gold)
    assert accuracy == pytest.approx(expected, abs=0.01)


def test_truth_inference_rows_match_answers():
    data = load_truth_inference("temp")
    task_pos = {t: i for i, t in enumerate(data.tasks)}
    worker_pos = {w: j for j, w in enumerate(data.workers)}
    rows = [task_pos[t] for t in data.answers["task"]]
    cols = [worker_pos[w] for w in data.answers["worker"]]
    np.testing.assert_array_equal(data.crowd[rows, cols], data.answers["label"])


def test_truth_inference_sparse():
    dense = load_truth_inference("dog")
    data = load_truth_inference("dog", sparse=True)
    assert isinstance(data.crowd, sp.csr_array)
    assert data.crowd.shape == dense.crowd.shape
    assert data.crowd.nnz == 8070
    coo = data.crowd.tocoo()
    # stored entries are codes into classes (code 0 stored explicitly)
    assert (coo.data == 0).any()
    np.testing.assert_array_equal(
        data.classes[coo.data], dense.crowd[coo.row, coo.col]
    )
    np.testing.assert_array_equal(data.y_gold, dense.y_gold)


def test_truth_inference_as_frame():
    data = load_truth_inference("bluebirds", as_frame=True)
    assert isinstance(data.crowd, pd.DataFrame)
    assert data.crowd.shape == (108, 39)
    assert data.crowd.index.name == "task"
    assert data.crowd.columns.name == "worker"
    assert isinstance(data.y_gold, pd.Series)
    assert data.y_gold.index.equals(data.crowd.index)


def test_truth_inference_errors():
    with pytest.raises(ValueError, match="bluebirds.*dog.*rte.*temp.*product"):
        load_truth_inference("cifar10h")
    with pytest.raises(ValueError, match="cannot be combined"):
        load_truth_inference("dog", as_frame=True, sparse=True)


@pytest.mark.parametrize(
    "name, author",
    [
        ("bluebirds", "Welinder"),
        ("dog", "Zhou"),
        ("rte", "Snow"),
        ("temp", "Snow"),
        ("product", "Wang"),
    ],
)
def test_truth_inference_descr_cites_source(name, author):
    descr = load_truth_inference(name).DESCR
    assert author in descr
    if name in ("dog", "product"):
        assert "Zheng" in descr


def test_music():
    music = load_music()
    assert music.X_train.shape == (700, 124)
    assert music.X_test.shape == (300, 124)
    assert music.X_train.dtype == np.float64 and np.isfinite(music.X_train).all()
    assert np.isfinite(music.X_test).all()
    assert music.crowd_train.shape == (700, 44)
    assert music.crowd_train.dtype == object
    observed = ~pd.isna(music.crowd_train)
    assert int(observed.sum()) == 2945
    assert observed.any(axis=1).all()  # every training song has a label
    assert len(music.workers) == 44
    assert len(music.classes) == 10
    assert music.y_train_gold.shape == (700,) and music.y_test.shape == (300,)
    assert np.isin(music.crowd_train[observed], music.classes).all()
    assert np.isin(music.y_test, music.classes).all()
    assert len(music.feature_names) == 124 and music.feature_names[0] == "feature0"
    assert "Rodrigues" in music.DESCR
    crowd = check_crowd_matrix(music.crowd_train, n_samples=len(music.X_train))
    assert crowd.n_labels == 2945


def test_music_rows_aligned_with_features():
    music = load_music()
    song_pos = {s: i for i, s in enumerate(music.ids_train)}
    worker_pos = {w: j for j, w in enumerate(music.workers)}
    answers = music.answers
    rows = np.array([song_pos[s] for s in answers["Input.song"]])
    cols = np.array([worker_pos[w] for w in answers["WorkerID"]])
    np.testing.assert_array_equal(
        music.crowd_train[rows, cols], answers["Answer.pred_label"].to_numpy(object)
    )
    # the answers' Input.true_label is the training gold of the same song
    np.testing.assert_array_equal(
        music.y_train_gold[rows], answers["Input.true_label"].to_numpy(object)
    )
    # song ids are "<genre>.<number>.mp3" and the genre is the gold label
    genre = np.array([s.split(".")[0] for s in music.ids_train], dtype=object)
    np.testing.assert_array_equal(genre, music.y_train_gold)


def test_music_majority_vote_agrees_with_gold():
    music = load_music()
    accuracy = np.mean(
        _majority_vote(music.crowd_train, music.classes) == music.y_train_gold
    )
    assert 0.65 < accuracy < 0.78  # 0.711 with ties to the first genre


def test_music_as_frame():
    music = load_music(as_frame=True)
    assert isinstance(music.X_train, pd.DataFrame)
    assert list(music.X_train.columns) == list(music.feature_names)
    assert music.crowd_train.shape == (700, 44)
    assert music.crowd_train.index.equals(music.X_train.index)
    assert isinstance(music.y_test, pd.Series) and len(music.y_test) == 300


def test_bundled_files_are_reproducible_gzip():
    data_dir = resources.files("skcrowd.datasets").joinpath("data")
    names = sorted(p.name for p in data_dir.iterdir() if p.name.endswith(".csv.gz"))
    foundation = {
        *(f"truth_inference_{n}_{part}.csv.gz"
          for n in ("bluebirds", "dog", "rte", "temp", "product")
          for part in ("answers", "gold")),
        *(f"music_{part}.csv.gz" for part in ("train", "test", "answers")),
    }
    assert foundation <= set(names)  # other issues bundle more files
    for name in names:
        raw = data_dir.joinpath(name).read_bytes()
        assert raw[:2] == b"\x1f\x8b"
        assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime=0
        assert gzip.decompress(raw)  # readable


def test_loaders_do_not_import_torch():
    code = (
        "import sys\n"
        "import skcrowd.datasets as d\n"
        "d.load_music(); d.load_truth_inference('bluebirds', sparse=True)\n"
        "d.make_crowd_classification(n_samples=20, instance_dependent=0.5)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
