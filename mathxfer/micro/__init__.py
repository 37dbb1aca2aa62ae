"""The micro model organism: a generated task world, a ~1M-parameter Llama pretrained on it, and
math-only post-training data, so that SFT vs RL can run end to end on a CPU.

Modules, one job each:
``kb`` the fixed fictional knowledge base; ``world`` the seeded task generators and splits;
``grading`` the chat format, graders and the RL reward; ``tokenizer`` the BPE and chat template;
``model`` the Llama configuration; ``pretrain`` base pretraining; ``evaluate`` greedy evaluation;
``posttrain_data`` teacher SFT data, RL prompts and rejection sampling.
"""
