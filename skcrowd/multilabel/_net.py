"""MultiLabelNetClassifier: one encoder, one linear head, a chosen loss."""

from __future__ import annotations

from sklearn.utils._param_validation import StrOptions

from ._base import BaseMultiLabelNet

__all__ = ["MultiLabelNetClassifier", "LOSS_NAMES"]

#: the losses of ``MultiLabelNetClassifier(loss=...)``
LOSS_NAMES = ("bce", "focal", "class-balanced", "distribution-balanced", "asymmetric")


class MultiLabelNetClassifier(BaseMultiLabelNet):
    r"""A multi-label network trained with a long-tail-aware loss.

    The encoder (the default MLP over dense or sparse features, or a user
    ``torch.nn.Module``) is followed by a linear head with one logit per
    label, trained with one of five losses. It is the plain baseline of
    :class:`BBSNClassifier`, with the same encoder, data handling,
    validation-based model selection and thresholds.

    With logits :math:`z`, :math:`p = \sigma(z)` and targets
    :math:`y \in [0, 1]` (means over the ``batch x n_labels`` entries):

    - ``"bce"``: binary cross-entropy
      :math:`-[y \log p + (1-y)\log(1-p)]`.
    - ``"focal"`` (Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense
      Object Detection", ICCV 2017): :math:`-[y(1-p)^{\gamma}\log p +
      (1-y)p^{\gamma}\log(1-p)]`, :math:`\gamma = 2`.
    - ``"class-balanced"`` (Cui, Jia, Lin, Song & Belongie, "Class-Balanced
      Loss Based on Effective Number of Samples", CVPR 2019): the BCE of
      label :math:`c` weighted by :math:`(1-\beta)/(1-\beta^{n_c})`, the
      inverse effective number of its :math:`n_c` positive training
      examples, normalised to sum to the number of labels;
      :math:`\beta = 0.999`.
    - ``"distribution-balanced"`` (Wu, Huang, Liu, Wang & Lin,
      "Distribution-Balanced Loss for Multi-Label Classification in
      Long-Tailed Datasets", ECCV 2020): re-balanced weights
      :math:`r_{ki} = n_i^{-1} / \sum_{j: y_{kj}=1} n_j^{-1}` smoothed to
      :math:`\hat r = 0.1 + \sigma(10 (r - 0.3))`, and negative-tolerant
      regularisation: :math:`s = z + \kappa \log\frac{p_i}{1-p_i} / \lambda`
      (class prior :math:`p_i = n_i/N`, :math:`\kappa = 0.05`),
      :math:`\hat r\,[y\,\mathrm{softplus}(-s) +
      (1-y)\,\lambda^{-1}\mathrm{softplus}(\lambda s)]`, :math:`\lambda = 2`.
    - ``"asymmetric"`` (Ridnik, Ben-Baruch, Zamir, Noy, Friedman, Protter &
      Zelnik-Manor, "Asymmetric Loss For Multi-Label Classification", ICCV
      2021): :math:`-[y(1-p)^{\gamma_+}\log p + (1-y)p_m^{\gamma_-}
      \log(1-p_m)]` with :math:`p_m = \max(p - m, 0)`, :math:`\gamma_+ = 0,
      \gamma_- = 4, m = 0.05`.

    The hyper-parameters above are the papers' defaults; ``loss_params``
    overrides them (``focal``: ``gamma``; ``class-balanced``: ``beta``;
    ``distribution-balanced``: ``alpha, beta, mu, kappa, neg_scale``;
    ``asymmetric``: ``gamma_pos, gamma_neg, clip``).

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        Encoder producing a ``(batch, d)`` representation; ``None``: an MLP
        with ``hidden_units`` whose first layer reads sparse batches. A
        user module receives dense float32 batches.
    loss : str, default="bce"
        The training loss, one of ``"bce"``, ``"focal"``,
        ``"class-balanced"``, ``"distribution-balanced"``, ``"asymmetric"``
        (see above).
    loss_params : dict, default=None
        Overrides of the loss's hyper-parameters.
    hidden_units : tuple of int, default=(512,)
        Hidden layers of the default encoder.
    dropout : float, default=0.2
        Dropout after each hidden layer of the default encoder.
    module_params : dict, default=None
        Keyword arguments to instantiate a ``module`` class.
    threshold : float in (0, 1) or "tuned", default="tuned"
        Decision threshold of every label, or ``"tuned"``: per-label
        thresholds maximising each label's F1 on the internal validation
        split, shrunk towards the one threshold that maximises micro-F1 by
        ``4 / (n_c + 4)`` for a label with ``n_c`` validation positives,
        clipped to [0.1, 0.9].
    model_selection : {"last", "best", "faithful"}, default="best"
        ``"last"``: the weights after the last epoch. ``"best"``: the
        weights of the epoch with the best validation micro-F1 + macro-F1.
        ``"faithful"``: like ``"best"``, and the best weights are also
        reloaded after every epoch that did not improve (BBSN's loop).
    aggregator : aggregator estimator, default=None
        Truth inference for a crowd ``y`` (3-D): a binary aggregator applied
        to each label (``None``: Dawid-Skene, through
        :class:`~skcrowd.aggregation.MultiLabelAggregator`), or a multi-label
        aggregator fitted on the whole crowd (e.g.
        :class:`~skcrowd.aggregation.MultiLabelDawidSkene`, whose worker
        parameters are shared by the labels). Training uses its posterior
        probabilities as soft targets.
    lr : float, default=1e-2
        Peak learning rate (chosen on a validation split of Reuters' training set).
    max_epochs : int, default=10
        Passes over the training data.
    batch_size : int, default=32
        Samples per mini-batch.
    optimizer : {"adamw", "adam", "sgd", "rmsprop"} or callable, default="adamw"
        ``"adamw"``/``"adam"``: AdamW with decoupled weight decay on weight
        matrices only, lazy (touched rows only) on the sparse first layer.
    weight_decay : float, default=0.0
        Decoupled weight decay.
    warmup : float or None, default=0.1
        Fraction of the steps with a linearly rising learning rate, which
        then falls linearly to 0 (BERT's ``warmup_linear``); ``None``: a
        constant learning rate.
    device : str, default="cpu"
        Torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the initialisation, the shuffling and
        dropout (inside ``torch.random.fork_rng``).
    validation_fraction : float or None, default=0.1
        Fraction of the training data held out for model selection and
        threshold tuning; every label keeps a training example.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks.
    verbose : int, default=0
        Print skorch's epoch table.

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for a label matrix; the class labels for a 1-D
        ``y``.
    n_labels_ : int
        Number of labels (outputs).
    target_type_ : {"multi-label", "single-label", "crowd"}
        The kind of ``y`` seen in ``fit``.
    threshold_ : ndarray of shape (n_labels,)
        The decision threshold of each label.
    label_counts_ : ndarray of shape (n_labels,)
        Positive training examples per label (after the validation split).
    aggregator_ : object
        The fitted per-label aggregator, for a crowd ``y``.
    n_features_in_ : int
        Number of features.
    net_ : skorch.NeuralNet
        The trained net.
    history_ : skorch.History
        Training history (with ``valid_micro_f1``/``valid_macro_f1`` when a
        validation split is used for model selection).

    See Also
    --------
    BBSNClassifier : The balanced-branch Siamese network.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.multilabel import MultiLabelNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(60, 8)
    >>> Y = np.column_stack([X[:, 0] > 0.5, X[:, 1] > 0.7]).astype(int)
    >>> clf = MultiLabelNetClassifier(loss="focal", hidden_units=(16,),
    ...                               max_epochs=5, random_state=0).fit(X, Y)
    >>> clf.predict(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **BaseMultiLabelNet._parameter_constraints,
        "loss": [StrOptions(set(LOSS_NAMES))],
        "loss_params": [dict, None],
    }

    def __init__(
        self,
        module=None,
        *,
        loss="bce",
        loss_params=None,
        hidden_units=(512,),
        dropout=0.2,
        module_params=None,
        threshold="tuned",
        model_selection="best",
        aggregator=None,
        lr=1e-2,
        max_epochs=10,
        batch_size=32,
        optimizer="adamw",
        weight_decay=0.0,
        warmup=0.1,
        device="cpu",
        random_state=None,
        validation_fraction=0.1,
        callbacks=None,
        verbose=0,
    ):
        self.module = module
        self.loss = loss
        self.loss_params = loss_params
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.module_params = module_params
        self.threshold = threshold
        self.model_selection = model_selection
        self.aggregator = aggregator
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.device = device
        self.random_state = random_state
        self.validation_fraction = validation_fraction
        self.callbacks = callbacks
        self.verbose = verbose

    def _build_module(self, data, target, *, features, labels):
        X, Y = features, labels
        from ._losses import MultiLabelLoss
        from ._modules import MultiLabelNetModule

        encoder, size = self._make_encoder(X, data)
        loss = MultiLabelLoss(
            self.loss, Y.sum(axis=0), len(Y), **(self.loss_params or {})
        )
        return MultiLabelNetModule(encoder, size, Y.shape[1], loss)
