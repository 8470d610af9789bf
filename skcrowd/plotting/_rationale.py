"""Showing rationales: a text highlighter (HTML) and a bar plot of terms.

:func:`highlight_rationale` needs nothing but the standard library;
:func:`plot_rationale` imports matplotlib when it draws.
"""

from __future__ import annotations

import html

import numpy as np

__all__ = ["highlight_rationale", "plot_rationale"]


def _rgb(color):
    color = str(color).lstrip("#")
    if len(color) != 6:
        raise ValueError(f"color must be a '#rrggbb' string; got {color!r}.")
    try:
        return tuple(int(color[k : k + 2], 16) for k in (0, 2, 4))
    except ValueError:
        raise ValueError(f"color must be a '#rrggbb' string; got {color!r}.") from None


def highlight_rationale(
    tokens,
    scores,
    *,
    marked=None,
    threshold=None,
    color="#ffb000",
    title=None,
):
    """HTML of a text whose tokens are shaded by their rationale score.

    Each token becomes a ``<span>`` whose background opacity is its score
    divided by the largest score of the text (the score is its tooltip).
    Tokens a reference rationale marks (e.g. a worker's highlights) are
    underlined, so the predicted and the human rationale can be compared at
    a glance. Tokens are HTML-escaped.

    Parameters
    ----------
    tokens : sequence of str
        The text's tokens, in order (joined by spaces).
    scores : array-like of shape (n_tokens,)
        Non-negative score of each token, e.g. the rationale probability of
        its term (``explain(X).rationale_proba[i][token_terms]``); NaN is 0.
    marked : array-like of shape (n_tokens,), default=None
        A reference 0/1 rationale to underline.
    threshold : float, default=None
        Shade only the tokens scoring at least this much.
    color : str, default="#ffb000"
        Highlight colour, ``"#rrggbb"``.
    title : str, default=None
        A heading line (escaped) above the text.

    Returns
    -------
    html : str
        A ``<div>`` to embed in a page or a notebook
        (``IPython.display.HTML(html)``).

    Examples
    --------
    >>> from skcrowd.plotting import highlight_rationale
    >>> out = highlight_rationale(["so", "good", "<3"], [0.1, 0.9, 0.0],
    ...                           marked=[0, 1, 0])
    >>> "rgba(255, 176, 0, 1.00)" in out, "&lt;3" in out
    (True, True)
    """
    tokens = [str(t) for t in tokens]
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64).ravel(), nan=0.0)
    if scores.shape != (len(tokens),):
        raise ValueError(
            f"scores must have one value per token ({len(tokens)}); got {scores.shape}."
        )
    if np.any(scores < 0):
        raise ValueError("scores must be non-negative.")
    if marked is not None:
        marked = np.asarray(marked).ravel()
        if marked.shape != (len(tokens),):
            raise ValueError(
                f"marked must have one value per token ({len(tokens)}); got "
                f"{marked.shape}."
            )
    r, g, b = _rgb(color)
    top = scores.max() if scores.size and scores.max() > 0 else 1.0
    parts = []
    for k, token in enumerate(tokens):
        alpha = scores[k] / top
        if threshold is not None and scores[k] < threshold:
            alpha = 0.0
        style = f"background-color: rgba({r}, {g}, {b}, {alpha:.2f})"
        if marked is not None and marked[k]:
            style += "; text-decoration: underline"
        parts.append(
            f'<span style="{style}" title="{scores[k]:.3f}">{html.escape(token)}</span>'
        )
    heading = "" if title is None else f"<p><b>{html.escape(str(title))}</b></p>"
    body = " ".join(parts)
    return f'<div class="skcrowd-rationale">{heading}<p>{body}</p></div>'


def plot_rationale(
    scores,
    term_names=None,
    *,
    top_k=10,
    reference=None,
    ax=None,
    title=None,
    color="#ffb000",
):
    """Bar plot of one item's top rationale terms, with a reference if given.

    Parameters
    ----------
    scores : array-like of shape (n_terms,)
        The item's rationale score per term (a row of
        ``explain(X).rationale_proba``); NaN terms are left out (e.g.
        non-candidates).
    term_names : array-like of str of shape (n_terms,), default=None
        Term labels; default ``"term 0"``, ``"term 1"``, ...
    top_k : int, default=10
        Number of terms shown, best first (top of the axes).
    reference : array-like of shape (n_terms,), default=None
        A reference per term drawn as black markers, e.g. the fraction of
        the item's workers who marked it.
    ax : matplotlib Axes, default=None
        Axes to draw in; default a new figure.
    title : str, default=None
        Axes title.
    color : str, default="#ffb000"
        Bar colour.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.plotting import plot_rationale
    >>> ax = plot_rationale(np.array([0.1, 0.8, 0.4]), ["tasty", "rude", "slow"],
    ...                     top_k=2, reference=[0, 1, 0.5])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['rude', 'slow']
    """
    from ._embedding import _import_pyplot

    scores = np.asarray(scores, dtype=np.float64).ravel()
    n_terms = scores.shape[0]
    if term_names is None:
        term_names = [f"term {t}" for t in range(n_terms)]
    term_names = np.asarray(term_names, dtype=object)
    if term_names.shape != (n_terms,):
        raise ValueError(
            f"term_names must have {n_terms} entries; got {term_names.shape}."
        )
    if reference is not None:
        reference = np.asarray(reference, dtype=np.float64).ravel()
        if reference.shape != (n_terms,):
            raise ValueError(
                f"reference must have {n_terms} entries; got {reference.shape}."
            )
    if int(top_k) < 1:
        raise ValueError(f"top_k must be >= 1; got {top_k}.")
    valid = np.flatnonzero(~np.isnan(scores))
    order = valid[np.argsort(-scores[valid], kind="stable")][: int(top_k)]
    plt = _import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 0.35 * max(len(order), 3) + 1))
    positions = np.arange(len(order))[::-1]
    ax.barh(positions, scores[order], color=color, label="predicted")
    if reference is not None:
        ax.scatter(
            reference[order],
            positions,
            color="black",
            marker="|",
            s=200,
            label="reference",
            zorder=3,
        )
        ax.legend(loc="lower right", fontsize="small")
    ax.set_yticks(positions)
    ax.set_yticklabels([str(term_names[t]) for t in order])
    ax.set_xlim(
        0,
        1.05
        * max(
            1e-12,
            np.nanmax(scores[order]) if len(order) else 1.0,
            np.nanmax(reference[order])
            if reference is not None and len(order)
            else 0.0,
        ),
    )
    ax.set_xlabel("rationale score")
    if title is not None:
        ax.set_title(title)
    return ax
