"""A GPT for one device, in the spirit of nanoGPT's model.py.

Token and learned position embeddings, pre-LayerNorm blocks of causal self-attention
(`F.scaled_dot_product_attention`, which picks a flash or memory-efficient kernel where
it can) and a GELU MLP, a final LayerNorm, and an output projection tied to the token
embedding. Initialization as GPT-2 (Radford et al. 2019, §2.3) via nanoGPT: N(0, 0.02),
residual projections scaled by 1/sqrt(2 * layers).

The module knows nothing of data parallelism, mixed precision or compilation: the
training loop (`trainer/train.py`) wraps it in DDP, runs it under bf16 autocast and
hands it to `torch.compile` from outside, as torchtitan keeps `model.py` apart from
`parallelize.py`.

Shapes: B batch, T sequence, C model width (d_model), nh heads, hs head size (C // nh),
V vocabulary.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from trainer.presets import PRESETS


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GPTConfig:
    vocab_size: int
    """Rows of the embedding; round up to a multiple of 64 for fast matmuls (`padded_vocab`)."""
    seq_len: int
    """Longest context: rows of the position embedding."""
    n_layer: int
    n_head: int
    d_model: int
    """Residual stream width; the MLP is 4x wider."""
    dropout: float = 0.0
    """On attention weights, residual branches and embeddings; 0 for pretraining (and exact resume needs no RNG)."""
    bias: bool = True
    """Biases in Linear layers and LayerNorms, as GPT-2."""

    def __post_init__(self) -> None:
        for key in ("vocab_size", "seq_len", "n_layer", "n_head", "d_model"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: must be >= 1, not {getattr(self, key)}")
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_head ({self.n_head})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout: must be in [0, 1), not {self.dropout}")


def padded_vocab(vocab_size: int, multiple: int = 64) -> int:
    """GPT-2's 50,257 -> 50,304: tensor-core matmuls want dimensions that divide by 64."""
    return -(-vocab_size // multiple) * multiple


def preset_config(name: str, *, vocab_size: int, seq_len: int, dropout: float = 0.0) -> GPTConfig:
    if name not in PRESETS:
        raise ValueError(f"preset: unknown {name!r}; known: {', '.join(PRESETS)}")
    return GPTConfig(vocab_size=vocab_size, seq_len=seq_len, dropout=dropout, **PRESETS[name])


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.proj.residual = True  # scaled at init
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # (B, T, C) each
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.up = nn.Linear(config.d_model, 4 * config.d_model, bias=config.bias)
        self.down = nn.Linear(4 * config.d_model, config.d_model, bias=config.bias)
        self.down.residual = True
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x), approximate="tanh")))  # (B, T, 4C) inside, as GPT-2's gelu


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))  # pre-LN: the residual stream itself is never normalized
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.seq_len, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model, bias=config.bias)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied (Press & Wolf 2017): one (V, C) matrix reads and writes tokens
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            # residual projections add into the stream once per layer and branch: keep the sum's variance flat
            std = 0.02 / math.sqrt(2 * self.config.n_layer) if getattr(module, "residual", False) else 0.02
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) -> next-token logits (B, T, V)."""
        T = idx.shape[1]
        if T > self.config.seq_len:
            raise ValueError(f"sequence of {T} tokens is longer than the model's seq_len {self.config.seq_len}")
        positions = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(positions))  # (B, T, C) + (T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        return self.lm_head(self.ln_f(x))  # (B, T, V)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameters, the tied embedding counted once.

        non_embedding leaves out the position embedding only (nanoGPT's count): the token
        embedding is also the output projection, whose matmul costs FLOPs like any layer's.
        """
        total = sum(p.numel() for p in self.parameters())
        return total - self.wpe.weight.numel() if non_embedding else total

    def flops_per_token(self, seq_len: int | None = None) -> int:
        """Training FLOPs per token: 6N for the matmuls (forward 2N, backward 4N) plus attention's
        12·L·d·T (PaLM, Chowdhery et al. 2022, app. B: QK^T and AV, forward and backward, with no
        discount for the causal mask), N = num_params(non_embedding=True)."""
        c = self.config
        T = c.seq_len if seq_len is None else seq_len
        return 6 * self.num_params(non_embedding=True) + 12 * c.n_layer * c.d_model * T
