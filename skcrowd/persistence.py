"""Share fitted estimators safely: a file format that runs no code on loading.

``pickle`` and ``joblib`` files execute code when loaded, so a model file
from someone else is as dangerous as a script from them. :func:`dump` and
:func:`load` write and read a zip archive that holds

- ``skcrowd.json``: the format, its version and the list of torch module
  classes the file refers to;
- ``estimator.skops``: the estimator, written with :mod:`skops.io` (no
  pickle: every object is rebuilt from its type name and plain data, and
  loading refuses any type that is not trusted);
- ``tensors.safetensors``: the weights of neural estimators (and their
  optimizer state), in the :mod:`safetensors` format (raw tensors, no code).

A neural estimator's skorch net is not stored as an object: its torch module
is stored as a tree of *class names*, plain attributes (ints, floats,
strings, tuples...) and tensors, and rebuilt on loading from those classes,
which must be trusted: torch's own layers (``torch.nn.modules``) and
skcrowd's modules are; a user's backbone class must be passed in
``trusted``. The net around the module is rebuilt by the estimator itself
(the same code that builds it in ``fit``). Weights are stored on the CPU and
loaded on the estimator's ``device``, or on the CPU (with a warning) when it
asks for CUDA and there is none.

Trusted by default: numpy, scipy and scikit-learn types (skops's own list)
and skcrowd's estimators (:func:`default_trusted_types`). Anything else
raises :class:`UntrustedTypeError` naming the types, *before* any of them is
imported; pass them in ``trusted=`` only if you trust the file's origin.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from skcrowd.aggregation import DawidSkene
>>> from skcrowd import persistence
>>> Y = np.array([[0, 0, 1], [1, 1, np.nan], [0, 1, 0], [1, 1, 1]])
>>> ds = DawidSkene().fit(Y)
>>> path = os.path.join(tempfile.mkdtemp(), "model.skcrowd")
>>> persistence.dump(ds, path)
>>> loaded = persistence.load(path)
>>> bool((loaded.predict_proba(Y) == ds.predict_proba(Y)).all())
True
"""

from __future__ import annotations

import contextvars
import importlib
import json
import os
import tempfile
import warnings
import zipfile

__all__ = [
    "UntrustedTypeError",
    "default_trusted_types",
    "dump",
    "get_untrusted_types",
    "load",
]

FORMAT = "skcrowd-model"
VERSION = 1
_MANIFEST = "skcrowd.json"
_ESTIMATOR = "estimator.skops"
_TENSORS = "tensors.safetensors"
_MEMBERS = {_MANIFEST, _ESTIMATOR, _TENSORS}
#: keys of the encoded state of a neural estimator
_SAVED_NET_KEY = "__skcrowd_saved_net__"
_MODULE_PARAM_KEY = "__skcrowd_module__"
#: prefixes of the torch module classes trusted by default
_TRUSTED_MODULE_PREFIXES = ("torch.nn.modules.", "skcrowd.")

_CONTEXT = contextvars.ContextVar("skcrowd_persistence", default=None)


class UntrustedTypeError(TypeError):
    """A model file refers to types that are not trusted.

    Raised by :func:`load` before anything of the file is imported. A
    ``TypeError``, so ``except TypeError`` catches it too.

    Parameters
    ----------
    message : str
        The error message.
    types : iterable of str, default=()
        The fully qualified names of the untrusted types.

    Attributes
    ----------
    types : list of str
        The fully qualified names of the untrusted types.

    Examples
    --------
    A transformer whose function is not among the trusted types:

    >>> import operator, os, tempfile
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skcrowd.persistence import UntrustedTypeError, dump, load
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skcrowd")
    >>> dump(FunctionTransformer(operator.neg), path)
    >>> try:
    ...     load(path)
    ... except UntrustedTypeError as error:
    ...     print(error.types)
    ['_operator.neg']
    """

    def __init__(self, message, types=()):
        super().__init__(message)
        self.types = list(types)


def default_trusted_types():
    """The types :func:`load` trusts without being told: skcrowd's estimators.

    skops additionally trusts numpy, scipy and scikit-learn types, and torch
    module classes are trusted when they are torch's own layers
    (``torch.nn.modules.*``) or skcrowd's.

    Returns
    -------
    types : list of str
        Fully qualified class names.

    Examples
    --------
    >>> from skcrowd.persistence import default_trusted_types
    >>> "skcrowd.aggregation._dawid_skene.DawidSkene" in default_trusted_types()
    True
    """
    from .utils.estimator_checks import all_estimators

    names = {_qualname(cls) for _, cls in all_estimators()}
    names.add("skcrowd.nn._checkpoint.TrainingCheckpoint")
    # optimizer classes given as the ``optimizer`` parameter
    names.update(
        f"torch.optim.{mod}.{cls}"
        for mod, cls in [
            ("adam", "Adam"),
            ("adamw", "AdamW"),
            ("sgd", "SGD"),
            ("rmsprop", "RMSprop"),
            ("adagrad", "Adagrad"),
        ]
    )
    return sorted(names)


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _trusted_names(trusted):
    if trusted is None:
        return set()
    if isinstance(trusted, (str, type)):
        trusted = [trusted]
    names = set()
    for item in trusted:
        if isinstance(item, type):
            names.add(_qualname(item))
        elif isinstance(item, str):
            names.add(item)
        else:
            raise TypeError(
                "trusted must be a list of type names (str) or types; got "
                f"{type(item).__name__}."
            )
    return names


# -- context used by BaseNeuralEstimator.__getstate__ / __setstate__ ----------
def _active_dump_context():
    context = _CONTEXT.get()
    return context if isinstance(context, _DumpContext) else None


def _active_load_context():
    context = _CONTEXT.get()
    return context if isinstance(context, _LoadContext) else None


_BARE_MODULE_KEYS = None


def _bare_module_keys():
    global _BARE_MODULE_KEYS
    if _BARE_MODULE_KEYS is None:
        import torch

        _BARE_MODULE_KEYS = frozenset(vars(torch.nn.Module()))
    return _BARE_MODULE_KEYS


class _DumpContext:
    """Collects the tensors and module classes met while skops walks the object."""

    def __init__(self):
        self.tensors = {}
        self.module_classes = set()

    def add_tensor(self, tensor):
        key = f"t{len(self.tensors)}"
        self.tensors[key] = tensor.detach().to("cpu").contiguous().clone()
        return key

    def encode_neural_state(self, est, state):
        import torch

        state = dict(state)
        where = type(est).__name__
        module_param = state.get("module")
        if isinstance(module_param, torch.nn.Module):
            tree = self.encode_module(module_param, f"{where}.module")
            state["module"] = {_MODULE_PARAM_KEY: json.dumps(tree)}
        net = state.pop("net_", None)
        if net is not None:
            state.pop("history_", None)  # the net's history, stored below
            saved = {
                "module": self.encode_module(net.module_, f"{where}.net_.module_"),
                "optimizer": self.encode_value(
                    net.optimizer_.state_dict(), f"{where}.net_.optimizer_"
                ),
                "history": self.encode_value(list(net.history), f"{where}.history_"),
                "device": str(net.device),
            }
            state[_SAVED_NET_KEY] = json.dumps(saved)
        return state

    def encode_module(self, module, path):
        import torch

        cls = type(module)
        name = _qualname(cls)
        try:
            resolved = _import_qualified(name)
        except ImportError:
            resolved = None
        if resolved is not cls:
            raise TypeError(
                f"Cannot save {path}: its class {name} cannot be imported by that "
                "name (a class defined inside a function, or made on the fly), so "
                "it could not be rebuilt on loading. Use pickle/joblib instead."
            )
        self.module_classes.add(name)
        attrs = vars(module)
        for key in _bare_module_keys():
            value = attrs.get(key)
            if "hook" in key and value:
                raise TypeError(
                    f"Cannot save {path} ({name}): it has {key} registered; hooks "
                    "are code and are not saved. Remove them, or use pickle/joblib."
                )
        plain = {}
        for key, value in attrs.items():
            if key in _bare_module_keys():
                continue
            if isinstance(value, torch.nn.Parameter):
                raise TypeError(
                    f"Cannot save {path}.{key} ({name}): an attribute holding a "
                    "parameter outside _parameters is not supported."
                )
            plain[key] = self.encode_value(value, f"{path}.{key}")
        return {
            "class": name,
            "training": bool(module.training),
            "attrs": plain,
            "params": {
                key: None if p is None else self.encode_parameter(p, f"{path}.{key}")
                for key, p in module._parameters.items()
            },
            "buffers": {
                key: None if b is None else self.add_tensor(b)
                for key, b in module._buffers.items()
            },
            "non_persistent": sorted(module._non_persistent_buffers_set),
            "children": {
                key: None
                if child is None
                else self.encode_module(child, f"{path}.{key}")
                for key, child in module._modules.items()
            },
        }

    def encode_parameter(self, param, path):
        # plain attributes set on a parameter (e.g. ``no_weight_decay``)
        # steer optimizers: keep them
        attrs = {k: self.encode_value(v, f"{path}.{k}") for k, v in vars(param).items()}
        return {
            "key": self.add_tensor(param),
            "requires_grad": bool(param.requires_grad),
            "attrs": attrs,
        }

    def encode_value(self, value, path):
        """Plain (JSON) data; tensors and arrays go to the tensor store."""
        import numpy as np
        import torch

        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) in (int, float):
            return value
        if isinstance(value, torch.nn.Module):
            raise TypeError(
                f"Cannot save {path}: a module held as a plain attribute is not "
                "supported (only submodules are)."
            )
        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.add_tensor(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"Cannot save {path}: an array of dtype {value.dtype} (only "
                    "numeric and boolean arrays are stored as tensors)."
                )
            return {"__ndarray__": self.add_tensor(torch.from_numpy(value.copy()))}
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"__scalar__": value.dtype.str, "value": value.item()}
        if isinstance(value, torch.dtype):
            return {"__dtype__": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, tuple):
            return {
                "__tuple__": [
                    self.encode_value(v, f"{path}[{i}]") for i, v in enumerate(value)
                ]
            }
        if isinstance(value, list):
            return [self.encode_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {
                "__dict__": [
                    [
                        self.encode_value(k, f"{path} key"),
                        self.encode_value(v, f"{path}[{k!r}]"),
                    ]
                    for k, v in value.items()
                ]
            }
        raise TypeError(
            f"Cannot save {path}: a {_qualname(type(value))} "
            "has no safe representation (plain numbers, strings, tuples, lists, "
            "dicts, arrays and tensors do). Use pickle/joblib for this model."
        )


class _LoadContext:
    """Tensors and approved module classes while skops rebuilds the object."""

    def __init__(self, tensors, approved_classes):
        self.tensors = tensors
        self.approved_classes = approved_classes

    def decode_neural_state(self, state):
        state = dict(state)
        saved = state.pop(_SAVED_NET_KEY, None)
        module_param = state.get("module")
        if isinstance(module_param, dict) and _MODULE_PARAM_KEY in module_param:
            state["module"] = self.decode_module(
                json.loads(module_param[_MODULE_PARAM_KEY])
            )
        return state, None if saved is None else json.loads(saved)

    def restore_net(self, est, saved):
        """Rebuild ``est.net_`` around the saved module, on an available device."""
        import torch
        from skorch.history import History

        module = self.decode_module(saved["module"])
        device = str(saved["device"])
        if str(est.device).startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"{type(est).__name__} was trained on device={device!r}, which is "
                "not available here: it is loaded on the CPU and its device set "
                "to 'cpu'.",
                UserWarning,
                stacklevel=2,
            )
            est.device = "cpu"
        state = getattr(est, "_train_state_", None) or {}
        net = est._make_net(module, int(state.get("seed", 0) or 0))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*module.*initialized.*")
            net.initialize()
        net.optimizer_.load_state_dict(self.decode_value(saved["optimizer"]))
        net.history = History(self.decode_value(saved["history"]))
        est.net_ = net
        est.history_ = net.history

    def tensor(self, key):
        try:
            return self.tensors[key]
        except KeyError:
            raise ValueError(
                f"Corrupt model file: the tensor {key!r} is missing."
            ) from None

    def resolve_module_class(self, name):
        import torch

        if name not in self.approved_classes:
            raise UntrustedTypeError(
                f"The model file builds a module of class {name}, which is not "
                "listed in its manifest and was not approved: refusing to load "
                "it (the file may have been tampered with).",
                [name],
            )
        cls = _import_qualified(name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise UntrustedTypeError(f"{name} is not a torch module class.", [name])
        return cls

    def decode_module(self, tree):
        import torch

        cls = self.resolve_module_class(tree["class"])
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        for key, value in tree["attrs"].items():
            object.__setattr__(module, key, self.decode_value(value))
        module.training = bool(tree["training"])
        for key, spec in tree["params"].items():
            param = None
            if spec is not None:
                param = torch.nn.Parameter(
                    self.tensor(spec["key"]), requires_grad=bool(spec["requires_grad"])
                )
                for name, value in spec.get("attrs", {}).items():
                    setattr(param, name, self.decode_value(value))
            module._parameters[key] = param
        for key, spec in tree["buffers"].items():
            module._buffers[key] = None if spec is None else self.tensor(spec)
        module._non_persistent_buffers_set = set(tree["non_persistent"])
        for key, child in tree["children"].items():
            module._modules[key] = None if child is None else self.decode_module(child)
        return module

    def decode_value(self, value):
        import numpy as np
        import torch

        if isinstance(value, list):
            return [self.decode_value(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tensor__" in value:
            return self.tensor(value["__tensor__"])
        if "__ndarray__" in value:
            return self.tensor(value["__ndarray__"]).numpy().copy()
        if "__scalar__" in value:
            return np.dtype(value["__scalar__"]).type(value["value"])
        if "__dtype__" in value:
            dtype = getattr(torch, str(value["__dtype__"]), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"Corrupt model file: unknown dtype {value!r}.")
            return dtype
        if "__device__" in value:
            return torch.device(value["__device__"])
        if "__tuple__" in value:
            return tuple(self.decode_value(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {
                _hashable(self.decode_value(k)): self.decode_value(v)
                for k, v in value["__dict__"]
            }
        raise ValueError(f"Corrupt model file: unknown encoded value {value!r}.")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _import_qualified(name):
    """The object named ``package.module.Class[.Nested]`` (import then getattr)."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            raise ImportError(f"{name} not found") from None
        return obj
    raise ImportError(f"{name} not found")


def _module_class_trusted_by_default(name):
    if not name.startswith(_TRUSTED_MODULE_PREFIXES):
        return False
    try:
        import torch

        cls = _import_qualified(name)
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


# -- the archive ---------------------------------------------------------------
def dump(estimator, path):
    """Write ``estimator`` to ``path`` in skcrowd's safe format.

    The file is written to a temporary file in the same directory and moved
    into place once complete, so a failure never leaves a partial file.

    Parameters
    ----------
    estimator : estimator
        A fitted (or unfitted) estimator: skcrowd's, scikit-learn's, or a
        composition of them.
    path : str or path-like
        Destination (by convention ending in ``.skcrowd``).

    Raises
    ------
    TypeError
        If the estimator holds something with no safe representation (a
        torch module with hooks, a class defined inside a function, an
        arbitrary Python object in a module's attributes...): use pickle or
        joblib for such a model, which only trusted readers may load.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    A neural estimator, written and read back: the same predictions.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from skcrowd.classification import CrowdClassifier
    >>> from skcrowd.datasets import make_crowd_classification
    >>> from skcrowd.persistence import dump, load
    >>> X, Y, _ = make_crowd_classification(n_samples=100, random_state=0)
    >>> clf = CrowdClassifier(hidden_units=(8,), max_epochs=3, random_state=0)
    >>> clf = clf.fit(X, Y)
    >>> path = os.path.join(tempfile.mkdtemp(), "crowd.skcrowd")
    >>> dump(clf, path)
    >>> loaded = load(path)
    >>> type(loaded).__name__, loaded.worker_confusion_.shape
    ('CrowdClassifier', (10, 3, 3))
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    """
    import skops.io

    context = _DumpContext()
    token = _CONTEXT.set(context)
    try:
        estimator_bytes = skops.io.dumps(estimator)
    finally:
        _CONTEXT.reset(token)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "estimator": _qualname(type(estimator)),
        "module_classes": sorted(context.module_classes),
        "tensors": bool(context.tensors),
    }
    from . import __version__

    manifest["skcrowd_version"] = __version__
    tensor_bytes = None
    if context.tensors:
        from safetensors.torch import save

        tensor_bytes = save(context.tensors)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
                archive.writestr(_ESTIMATOR, estimator_bytes)
                if tensor_bytes is not None:
                    archive.writestr(_TENSORS, tensor_bytes)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_archive(path):
    path_repr = "file"
    if isinstance(path, (str, os.PathLike)):
        path_repr = repr(os.fspath(path))
    elif not hasattr(path, "read"):
        raise TypeError(
            "path must be a str, a path-like object or a binary file object; got "
            f"{type(path).__name__}."
        )
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(
            f"{path_repr} is not a skcrowd model file (not a zip archive); files "
            "written by pickle/joblib are loaded with those, and only if trusted."
        ) from None
    with archive:
        names = set(archive.namelist())
        if _MANIFEST not in names or _ESTIMATOR not in names:
            raise ValueError(
                f"{path_repr} is not a skcrowd model file (no {_MANIFEST} or "
                f"{_ESTIMATOR} in the archive)."
            )
        unexpected = sorted(names - _MEMBERS)
        if unexpected:
            raise ValueError(
                f"{path_repr} holds unexpected members {unexpected}: not a file "
                "written by skcrowd.persistence.dump."
            )
        try:
            manifest = json.loads(archive.read(_MANIFEST))
        except ValueError as exc:
            raise ValueError(f"{path_repr}: unreadable manifest ({exc}).") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"{path_repr} is not a skcrowd model file (format).")
        version = manifest.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise ValueError(
                f"{path_repr} was written in format version {version!r}; this "
                f"skcrowd reads versions up to {VERSION}: upgrade skcrowd."
            )
        classes = manifest.get("module_classes", [])
        if not isinstance(classes, list) or not all(
            isinstance(c, str) for c in classes
        ):
            raise ValueError(f"{path_repr}: malformed manifest (module_classes).")
        estimator_bytes = archive.read(_ESTIMATOR)
        tensor_bytes = archive.read(_TENSORS) if _TENSORS in names else None
    return manifest, estimator_bytes, tensor_bytes


def _untrusted(manifest, estimator_bytes, trusted_names):
    import skops.io

    try:
        skops_untrusted = skops.io.get_untrusted_types(data=estimator_bytes)
    except Exception as exc:  # a corrupt skops payload
        raise ValueError(f"Corrupt model file: {exc}") from None
    allowed = set(default_trusted_types()) | trusted_names
    bad = [t for t in skops_untrusted if t not in allowed]
    approved_modules = set()
    for name in manifest.get("module_classes", []):
        if name in trusted_names or _module_class_trusted_by_default(name):
            approved_modules.add(name)
        else:
            bad.append(name)
    return sorted(set(bad)), skops_untrusted, approved_modules


def get_untrusted_types(path, trusted=None):
    """The types in a model file that :func:`load` would refuse.

    Nothing in the file is imported or run.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.
    trusted : list of str or type, default=None
        Types to count as trusted besides the defaults.

    Returns
    -------
    types : list of str
        Fully qualified names, sorted; empty when :func:`load` would load
        the file.

    Examples
    --------
    Look before loading a file from someone else:

    >>> import operator, os, tempfile
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skcrowd.aggregation import MajorityVote
    >>> from skcrowd.persistence import dump, get_untrusted_types
    >>> folder = tempfile.mkdtemp()
    >>> dump(MajorityVote(), os.path.join(folder, "vote.skcrowd"))
    >>> get_untrusted_types(os.path.join(folder, "vote.skcrowd"))
    []
    >>> dump(FunctionTransformer(operator.neg), os.path.join(folder, "neg.skcrowd"))
    >>> get_untrusted_types(os.path.join(folder, "neg.skcrowd"))
    ['_operator.neg']
    >>> get_untrusted_types(os.path.join(folder, "neg.skcrowd"),
    ...                     trusted=["_operator.neg"])
    []
    """
    manifest, estimator_bytes, _ = _read_archive(path)
    return _untrusted(manifest, estimator_bytes, _trusted_names(trusted))[0]


def load(path, trusted=None):
    """Load an estimator written by :func:`dump`, running none of its code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.
    trusted : list of str or type, default=None
        Types to trust besides :func:`default_trusted_types` (and skops's
        numpy/scipy/scikit-learn types, torch's layers and skcrowd's
        modules), e.g. the class of your own backbone module. Only list
        types whose code you trust: loading imports them.

    Returns
    -------
    estimator : estimator
        The estimator, fitted if it was; neural estimators on their
        ``device``, or on the CPU when that is CUDA and there is none.

    Raises
    ------
    UntrustedTypeError
        If the file refers to types that are not trusted (nothing of the
        file is imported in that case). Its ``types`` lists them.
    ValueError
        If the file is not a skcrowd model file, is corrupt, or was written
        by a newer format version.

    See Also
    --------
    get_untrusted_types : What ``load`` would refuse, without loading.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skcrowd.aggregation import DawidSkene
    >>> from skcrowd.persistence import dump, load
    >>> Y = np.array([[0, 0, 1], [1, 1, np.nan], [0, 1, 0], [1, 1, 1]])
    >>> path = os.path.join(tempfile.mkdtemp(), "ds.skcrowd")
    >>> dump(DawidSkene().fit(Y), path)
    >>> ds = load(path)
    >>> ds.labels_, ds.confusion_.shape
    (array([0., 1., 0., 1.]), (3, 2, 2))

    A file that refers to a type outside the trusted ones is refused unless
    that type is named in ``trusted`` (only do so for a file whose origin
    you trust):

    >>> import operator
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> dump(FunctionTransformer(operator.neg).fit([[1.0]]), path)
    >>> load(path)
    Traceback (most recent call last):
    ...
    skcrowd.persistence.UntrustedTypeError: Refusing to load ...
    >>> load(path, trusted=["_operator.neg"]).transform(np.array([[1.0, -2.0]]))
    array([[-1.,  2.]])
    """
    import skops.io

    manifest, estimator_bytes, tensor_bytes = _read_archive(path)
    bad, skops_untrusted, approved = _untrusted(
        manifest, estimator_bytes, _trusted_names(trusted)
    )
    if bad:
        raise UntrustedTypeError(
            f"Refusing to load {os.fspath(path)!r}: it refers to types that are not "
            f"trusted: {bad}. Loading them would import and run their code. If "
            "you trust where the file comes from, pass them: "
            f"skcrowd.persistence.load(path, trusted={bad!r}).",
            bad,
        )
    tensors = {}
    if tensor_bytes is not None:
        from safetensors.torch import load as load_tensors

        try:
            tensors = load_tensors(tensor_bytes)
        except Exception as exc:
            raise ValueError(f"Corrupt model file (tensors): {exc}") from None
    context = _LoadContext(tensors, approved)
    token = _CONTEXT.set(context)
    try:
        return skops.io.loads(estimator_bytes, trusted=skops_untrusted)
    finally:
        _CONTEXT.reset(token)
