"""Analysis library for the latent-space and token-space chapters (paper Sections 5.1-5.2).

Modules, one job each:
``store`` atomic .npz writes and content hashes; ``identity`` what names a model or tokenizer in a
cache key; ``hidden`` pooled hidden states, batched, cached and resumable; ``latent`` the paper's PCA
shift d* (Figure 3, Tables 2 and 6); ``umap_view`` a joint, seeded UMAP of base/SFT/RL states;
``tokens`` teacher-forced scoring, KL (sampled-token and exact) and token rank shift (Figures 4, 5,
15-17, Table 8); ``charts`` altair charts over the tidy frames the other modules return.
"""
