"""Model shapes by name, apart from the model so that command lines can list them without importing torch."""

# Shapes (n_layer, n_head, d_model). GPT-2 sizes from Radford et al. 2019, table 2
# (the paper's 117M/345M are the 124M/350M of the released weights); 1.3B is GPT-3 XL
# (Brown et al. 2020, table 2.1). tiny..small are for tests, CPU runs and scaling ladders.
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 2, "n_head": 2, "d_model": 64},  # ~0.1M non-embedding parameters
    "mini": {"n_layer": 4, "n_head": 4, "d_model": 128},  # ~0.8M
    "midi": {"n_layer": 4, "n_head": 4, "d_model": 192},  # ~1.8M, between mini and small
    "small": {"n_layer": 6, "n_head": 6, "d_model": 384},  # ~10.6M (nanoGPT's shakespeare-char)
    "gpt2-124m": {"n_layer": 12, "n_head": 12, "d_model": 768},
    "gpt2-350m": {"n_layer": 24, "n_head": 16, "d_model": 1024},
    "gpt2-774m": {"n_layer": 36, "n_head": 20, "d_model": 1280},
    "gpt3-1.3b": {"n_layer": 24, "n_head": 16, "d_model": 2048},
    "gpt2-1.5b": {"n_layer": 48, "n_head": 25, "d_model": 1600},
}
