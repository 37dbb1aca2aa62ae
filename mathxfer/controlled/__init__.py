"""The controlled experiment (the paper's Section 4): SFT vs GRPO vs on-policy SFT from one base."""
