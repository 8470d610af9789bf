"""
===========================================================
Multiview embedding of coloured digits from crowd triplets
===========================================================

Workers were shown three coloured digits and asked which two are most
similar. Half of them judged by the digit's shape, the other half by its
colour, and none said which. :class:`~skcrowd.embedding.MultiviewTripletEmbedder`
(Lu, Li, Takeuchi & Kashima, WWW 2023) learns one embedding space per view
from the answers alone, together with each worker's preference among the
views, and embeds digits it never saw.

The data are scikit-learn's 8x8 digits tinted with ten colours, answered
by simulated workers (:func:`~skcrowd.datasets.make_multiview_triplets`).
"""

# %%
# Data: coloured digits and the workers' answers
# ----------------------------------------------
# 20% of the digits are held out: the model never sees them while training,
# and the answers about them test the embedding of new objects.
import matplotlib.pyplot as plt
import numpy as np

from skcrowd.datasets import make_multiview_triplets
from skcrowd.embedding import MultiviewTripletEmbedder
from skcrowd.metrics import view_attribute_scores
from skcrowd.plotting import plot_view_embeddings

ds = make_multiview_triplets(
    n_objects=600, n_triplets=8000, test_size=0.2, random_state=0
)
print(ds.data)
print("views used by the workers:", ds.worker_views)

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image in zip(axes, ds.images[:8], strict=True):
    ax.imshow(image)
    ax.axis("off")

# %%
# Fit: a shared MLP trunk and one head per view
# ---------------------------------------------
est = MultiviewTripletEmbedder(
    n_views=2, n_components=10, lr=5e-3, batch_size=1000, max_epochs=25, random_state=0
)
est.fit(ds.data)
print(f"triplet accuracy among held-out digits: {est.score(ds.test):.3f}")

# %%
# Which view is which? Cluster each view of the held-out digits and match
# the views to the two attributes by NMI.
held_out = ds.test_objects
views = est.transform_views(ds.objects[held_out])
scores = view_attribute_scores(views, ds.attributes[held_out], random_state=0)
for a, name in enumerate(ds.attribute_names):
    print(f"view {scores.matching[a]} <-> {name}: NMI {scores.matched_nmi[a]:.2f}")

# %%
# Each worker's learned preference among the views (softmax of W):
for worker, pref in zip(est.workers_, est.worker_view_preference_, strict=True):
    used = ds.attribute_names[ds.worker_views[worker]]
    print(f"worker {worker} (judged by {used}): {np.round(pref, 2)}")

# %%
# Each view of the held-out digits
# --------------------------------
# Each view is coloured by the attribute it was matched to (t-SNE of the
# 10-D view): one view sorts the digits by shape, the other by colour.
view_attribute = np.empty(est.n_views, dtype=int)
view_attribute[scores.matching] = np.arange(len(ds.attribute_names))
is_colour = [ds.attribute_names[a] == "colour" for a in view_attribute]
plot_view_embeddings(
    views,
    ds.attributes[held_out][:, view_attribute],
    method="tsne",
    titles=[f"view {v}: {ds.attribute_names[a]}" for v, a in enumerate(view_attribute)],
    label_names=[ds.color_names if c else None for c in is_colour],
    palettes=[ds.colors * 0.9 if c else None for c in is_colour],
    random_state=0,
)
plt.tight_layout()
plt.show()
