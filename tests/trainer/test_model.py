"""The GPT module: shapes, parameter counts of the presets, the FLOPs formula, causality, tying, init."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from trainer.model import GPT, PRESETS, GPTConfig, padded_vocab, preset_config


def tiny(vocab_size: int = 97, seq_len: int = 16, **overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(
        GPTConfig(vocab_size=vocab_size, seq_len=seq_len, **({"n_layer": 2, "n_head": 2, "d_model": 32} | overrides))
    )


def test_logits_have_one_row_per_position_and_token():
    model = tiny()
    logits = model(torch.randint(0, 97, (3, 11)))
    assert logits.shape == (3, 11, 97) and logits.dtype == torch.float32


def test_longer_than_seq_len_is_refused():
    with pytest.raises(ValueError, match="longer than the model's seq_len 16"):
        tiny()(torch.zeros(1, 17, dtype=torch.long))


def test_future_tokens_do_not_change_past_logits():
    model = tiny().eval()
    idx = torch.randint(0, 97, (2, 16))
    changed = idx.clone()
    changed[:, 9:] = (changed[:, 9:] + 1) % 97
    before, after = model(idx), model(changed)
    assert torch.equal(before[:, :9], after[:, :9])
    assert not torch.allclose(before[:, 9:], after[:, 9:])


def test_output_projection_is_the_token_embedding():
    model = tiny()
    assert model.lm_head.weight is model.wte.weight
    assert model.num_params(non_embedding=False) == sum(p.numel() for p in model.parameters())


def test_residual_projections_start_smaller():
    model = tiny(n_layer=8, d_model=128, n_head=4)
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert model.blocks[0].mlp.down.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)


@pytest.mark.parametrize(
    ("preset", "millions"), [("gpt2-124m", 124.4), ("gpt2-350m", 354.8), ("gpt2-774m", 774.0), ("gpt2-1.5b", 1557.6)]
)
def test_gpt2_presets_have_gpt2_parameter_counts(preset, millions):
    with torch.device("meta"):  # shapes only: no memory, no init time
        model = GPT(preset_config(preset, vocab_size=50257, seq_len=1024))
    assert model.num_params(non_embedding=False) / 1e6 == pytest.approx(millions, abs=0.1)
    assert model.num_params(non_embedding=False) - model.num_params() == 1024 * PRESETS[preset]["d_model"]


def test_every_preset_builds_and_tiny_is_tiny():
    for name in PRESETS:
        with torch.device("meta"):
            GPT(preset_config(name, vocab_size=64, seq_len=32))
    assert 1e5 < GPT(preset_config("tiny", vocab_size=64, seq_len=32)).num_params() < 1e6
    with pytest.raises(ValueError, match="preset: unknown 'huge'"):
        preset_config("huge", vocab_size=64, seq_len=32)


def test_padded_vocab():
    assert padded_vocab(50257) == 50304 and padded_vocab(64) == 64 and padded_vocab(65) == 128


def test_flops_per_token_is_6n_plus_the_attention_term():
    model = tiny(vocab_size=128, seq_len=64, n_layer=3, d_model=96, n_head=3)
    assert model.flops_per_token(64) == 6 * model.num_params() + 12 * 3 * 96 * 64
    assert model.flops_per_token() == model.flops_per_token(64)


def test_flops_per_token_matches_counted_matmuls():
    # FlopCounterMode counts every matmul of a forward and backward pass; with the math
    # attention kernel (plain bmm, which it sees) attention's too, the masked half included
    # as the formula does. The formula's 6N also counts biases and LayerNorm gains, under 1% of N here.
    model = tiny(vocab_size=256, seq_len=64, n_layer=2, d_model=128, n_head=4)
    idx = torch.randint(0, 256, (2, 64))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(idx).sum().backward()
    assert counter.get_total_flops() / (2 * 64) == pytest.approx(model.flops_per_token(64), rel=0.01)
